package community

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
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
	// GB18030Fallback, with EncodingGBK, writes a row holding a character GBK lacks (䢺 of 䢺江镇
	// in 大邑县) in GB18030, which encodes every other character exactly as GBK does, instead of
	// failing: what a GB18030-aware export does. Readers that decode GBK files as GB18030 (the
	// feeds gateway does) read every row.
	GB18030Fallback bool
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

// RowWriter writes the rows of one dataset, one at a time, to an io.Writer; Close flushes.
type RowWriter interface {
	Write(row map[string]string) error
	Close() error
	// Fallbacks is the number of rows written in GB18030 because GBK lacks one of their
	// characters (WriteOptions.GB18030Fallback).
	Fallbacks() int
}

// NewCSVWriter returns a writer of CSV with a header row: the dataset's fields in the standard's
// order, renamed by opt.Rename, encoded in opt.Encoding. The header is written at once. Without
// GB18030Fallback a value GBK cannot represent is an error naming gb18030.
func NewCSVWriter(w io.Writer, dataset string, opt WriteOptions) (RowWriter, error) {
	names := fields[dataset]
	if names == nil {
		return nil, fmt.Errorf("write CSV: unknown dataset %q", dataset)
	}
	cw := &csvWriter{dataset: dataset, names: names, opt: opt, out: bufio.NewWriterSize(w, 64<<10), rec: make([]string, len(names))}
	switch opt.Encoding {
	case "", EncodingUTF8:
	case EncodingGBK:
		cw.enc = simplifiedchinese.GBK.NewEncoder()
	case EncodingGB18030:
		cw.enc = simplifiedchinese.GB18030.NewEncoder()
	default:
		return nil, fmt.Errorf("write CSV: encoding %q: want %s, %s or %s", opt.Encoding, EncodingUTF8, EncodingGBK, EncodingGB18030)
	}
	cw.csv = csv.NewWriter(&cw.line)
	if err := cw.writeRecord(opt.columns(names)); err != nil {
		return nil, fmt.Errorf("write CSV %s header: %w", dataset, err)
	}
	return cw, nil
}

type csvWriter struct {
	dataset   string
	names     []string
	opt       WriteOptions
	out       *bufio.Writer
	enc       *encoding.Encoder
	csv       *csv.Writer
	line      bytes.Buffer // one CSV record in UTF-8, encoded before it is written
	rec       []string
	rows      int
	fallbacks int
}

func (c *csvWriter) Write(row map[string]string) error {
	for j, f := range c.names {
		c.rec[j] = row[f]
	}
	c.rows++
	if err := c.writeRecord(c.rec); err != nil {
		return fmt.Errorf("write CSV %s row %d: %w", c.dataset, c.rows, err)
	}
	return nil
}

// writeRecord renders one record in UTF-8, encodes it and writes it out.
func (c *csvWriter) writeRecord(rec []string) error {
	c.line.Reset()
	if err := c.csv.Write(rec); err != nil {
		return err
	}
	c.csv.Flush()
	if err := c.csv.Error(); err != nil {
		return err
	}
	b := c.line.Bytes()
	if c.enc != nil {
		enc, err := c.enc.Bytes(b)
		if err != nil && c.opt.Encoding == EncodingGBK {
			if !c.opt.GB18030Fallback {
				return fmt.Errorf("gbk (use gb18030 for every character): %w", err)
			}
			c.fallbacks++
			enc, err = simplifiedchinese.GB18030.NewEncoder().Bytes(b)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.opt.Encoding, err)
		}
		b = enc
	}
	_, err := c.out.Write(b)
	return err
}

func (c *csvWriter) Close() error {
	if err := c.out.Flush(); err != nil {
		return fmt.Errorf("write CSV %s: %w", c.dataset, err)
	}
	return nil
}

func (c *csvWriter) Fallbacks() int { return c.fallbacks }

// NewJSONLWriter returns a writer of JSON lines: one object per row with every field of the
// dataset in the standard's order (renamed by opt.Rename), values as strings.
func NewJSONLWriter(w io.Writer, dataset string, opt WriteOptions) (RowWriter, error) {
	names := fields[dataset]
	if names == nil {
		return nil, fmt.Errorf("write JSON lines: unknown dataset %q", dataset)
	}
	if opt.Encoding != "" && opt.Encoding != EncodingUTF8 {
		return nil, fmt.Errorf("write JSON lines: encoding %q: JSON is always UTF-8", opt.Encoding)
	}
	jw := &jsonlWriter{dataset: dataset, names: names, out: bufio.NewWriterSize(w, 64<<10)}
	for _, c := range opt.columns(names) {
		k, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("write JSON lines: column %q: %w", c, err)
		}
		jw.keys = append(jw.keys, k)
	}
	return jw, nil
}

type jsonlWriter struct {
	dataset string
	names   []string
	keys    [][]byte
	out     *bufio.Writer
	rows    int
}

func (j *jsonlWriter) Write(row map[string]string) error {
	j.rows++
	j.out.WriteByte('{')
	for i, f := range j.names {
		if i > 0 {
			j.out.WriteByte(',')
		}
		j.out.Write(j.keys[i])
		j.out.WriteByte(':')
		v, err := json.Marshal(row[f])
		if err != nil {
			return fmt.Errorf("write JSON lines %s row %d field %s: %w", j.dataset, j.rows, f, err)
		}
		j.out.Write(v)
	}
	_, err := j.out.WriteString("}\n")
	return err
}

func (j *jsonlWriter) Close() error {
	if err := j.out.Flush(); err != nil {
		return fmt.Errorf("write JSON lines %s: %w", j.dataset, err)
	}
	return nil
}

func (j *jsonlWriter) Fallbacks() int { return 0 }

// WriteCSV writes a whole batch as CSV (NewCSVWriter).
func WriteCSV(w io.Writer, b *Batch, opt WriteOptions) error {
	return writeAll(b, func() (RowWriter, error) { return NewCSVWriter(w, b.Dataset, opt) })
}

// WriteJSONL writes a whole batch as JSON lines (NewJSONLWriter).
func WriteJSONL(w io.Writer, b *Batch, opt WriteOptions) error {
	return writeAll(b, func() (RowWriter, error) { return NewJSONLWriter(w, b.Dataset, opt) })
}

func writeAll(b *Batch, open func() (RowWriter, error)) error {
	rw, err := open()
	if err != nil {
		return err
	}
	for _, row := range b.Rows {
		if err := rw.Write(row); err != nil {
			return fmt.Errorf("%s: %w", b.Source, err)
		}
	}
	return rw.Close()
}
