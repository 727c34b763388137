package community

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Encodings of CSV output.
const (
	EncodingUTF8    = "utf-8"
	EncodingGBK     = "gbk"
	EncodingGB18030 = "gb18030"
)

// WriteOptions controls the writers. The zero value writes UTF-8 with the standard's field names.
type WriteOptions struct {
	// Encoding of CSV output: EncodingUTF8 (default, ""), EncodingGBK or EncodingGB18030. JSON
	// lines are always UTF-8.
	Encoding string
	// Rename maps standard field names to the source's column names; fields it does not name keep
	// their standard name (see DefaultRename).
	Rename map[string]string
}

func (o WriteOptions) columns(fieldNames []string) []string {
	cols := make([]string, len(fieldNames))
	for i, f := range fieldNames {
		cols[i] = f
		if c, ok := o.Rename[f]; ok {
			cols[i] = c
		}
	}
	return cols
}

// WriteCSV writes the batch as CSV with a header row: the dataset's fields in the standard's
// order, renamed by opt.Rename, encoded in opt.Encoding. A value the encoding cannot represent is
// an error: GBK lacks a few characters of real place names (䢺江镇 in 大邑县), GB18030 has them all.
func WriteCSV(w io.Writer, b *Batch, opt WriteOptions) error {
	names := fields[b.Dataset]
	if names == nil {
		return fmt.Errorf("write CSV: unknown dataset %q", b.Dataset)
	}
	var out io.Writer
	var tw *transform.Writer
	switch opt.Encoding {
	case "", EncodingUTF8:
		out = w
	case EncodingGBK:
		tw = transform.NewWriter(w, simplifiedchinese.GBK.NewEncoder())
		out = tw
	case EncodingGB18030:
		tw = transform.NewWriter(w, simplifiedchinese.GB18030.NewEncoder())
		out = tw
	default:
		return fmt.Errorf("write CSV: encoding %q: want %s, %s or %s", opt.Encoding, EncodingUTF8, EncodingGBK, EncodingGB18030)
	}
	cw := csv.NewWriter(out)
	if err := cw.Write(opt.columns(names)); err != nil {
		return fmt.Errorf("write CSV %s/%s header: %w", b.Source, b.Dataset, err)
	}
	rec := make([]string, len(names))
	for i, row := range b.Rows {
		for j, f := range names {
			rec[j] = row[f]
		}
		if err := cw.Write(rec); err != nil {
			if opt.Encoding == EncodingGBK {
				return fmt.Errorf("write CSV %s/%s row %d (gbk; use gb18030 for every character): %w", b.Source, b.Dataset, i, err)
			}
			return fmt.Errorf("write CSV %s/%s row %d: %w", b.Source, b.Dataset, i, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV %s/%s (%s): %w", b.Source, b.Dataset, opt.Encoding, err)
	}
	if tw != nil {
		if err := tw.Close(); err != nil {
			return fmt.Errorf("write CSV %s/%s (%s): %w", b.Source, b.Dataset, opt.Encoding, err)
		}
	}
	return nil
}

// WriteJSONL writes the batch as JSON lines, one object per row with every field of the dataset
// in the standard's order (renamed by opt.Rename), values as strings.
func WriteJSONL(w io.Writer, b *Batch, opt WriteOptions) error {
	names := fields[b.Dataset]
	if names == nil {
		return fmt.Errorf("write JSON lines: unknown dataset %q", b.Dataset)
	}
	if opt.Encoding != "" && opt.Encoding != EncodingUTF8 {
		return fmt.Errorf("write JSON lines: encoding %q: JSON is always UTF-8", opt.Encoding)
	}
	cols := opt.columns(names)
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		k, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("write JSON lines: column %q: %w", c, err)
		}
		keys[i] = k
	}
	bw := bufio.NewWriter(w)
	for i, row := range b.Rows {
		bw.WriteByte('{')
		for j, f := range names {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.Write(keys[j])
			bw.WriteByte(':')
			v, err := json.Marshal(row[f])
			if err != nil {
				return fmt.Errorf("write JSON lines %s/%s row %d field %s: %w", b.Source, b.Dataset, i, f, err)
			}
			bw.Write(v)
		}
		bw.WriteString("}\n")
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write JSON lines %s/%s: %w", b.Source, b.Dataset, err)
	}
	return nil
}
