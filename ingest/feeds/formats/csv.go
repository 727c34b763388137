package formats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

type csvReader struct {
	r       *csv.Reader
	header  []string
	charset string
	row     int64
}

// NewCSV reads CSV with a header row from r: comma-separated, RFC 4180 quoting (lazy quotes
// allowed), blank lines skipped, surrounding spaces of header names trimmed. Header names must be
// non-empty and distinct. A data row with another column count than the header, or with bytes
// that are not valid in the charset, is a *RowError.
func NewCSV(r io.Reader, opts Options) (Reader, error) {
	dec, cs, err := Decode(r, opts.Charset)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(&lineLimit{r: dec, max: opts.maxRowBytes()})
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, formatErr("CSV: empty body, want a header row")
	}
	if err != nil {
		return nil, formatErr("CSV header: %v", err)
	}
	header := make([]string, len(head))
	seen := make(map[string]int, len(head))
	for i, h := range head {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			return nil, formatErr("CSV header: column %d has no name", i+1)
		case !validText(h, cs):
			return nil, formatErr("CSV header: column %d is not valid %s", i+1, cs)
		}
		if j, dup := seen[h]; dup {
			return nil, formatErr("CSV header: columns %d and %d are both named %q", j+1, i+1, h)
		}
		seen[h] = i
		header[i] = h
	}
	cr.FieldsPerRecord = len(header)
	return &csvReader{r: cr, header: header, charset: cs}, nil
}

func (c *csvReader) Charset() string   { return c.charset }
func (c *csvReader) Close() error      { return nil }
func (c *csvReader) Columns() []string { return c.header }

func (c *csvReader) Next() (Record, error) {
	row, rec, err := c.NextValues()
	if err != nil {
		return Record{}, err
	}
	fields := make(map[string]any, len(rec))
	for i, v := range rec {
		fields[c.header[i]] = v
	}
	return Record{Row: row, Fields: fields}, nil
}

func (c *csvReader) NextValues() (int64, []string, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return 0, nil, io.EOF
	}
	c.row++
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return 0, nil, fmt.Errorf("CSV row %d: %w", c.row, err)
		}
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return 0, nil, &RowError{Row: c.row, Reason: fmt.Sprintf("has %d columns, the header has %d", len(rec), len(c.header))}
		}
		return 0, nil, &RowError{Row: c.row, Reason: fmt.Sprintf("line %d column %d: %v", pe.Line, pe.Column, pe.Err)}
	}
	for i, v := range rec {
		if !validText(v, c.charset) {
			return 0, nil, &RowError{Row: c.row, Reason: fmt.Sprintf("column %q is not valid %s (declare the charset, e.g. text/csv; charset=gbk)", c.header[i], c.charset)}
		}
	}
	return c.row, rec, nil
}

// validText rejects invalid UTF-8 and, for transcoded GB18030, the replacement character the
// decoder puts where bytes were not GB18030. (strings.ContainsRune(s, utf8.RuneError), which
// also matches invalid UTF-8, decodes every character.)
func validText(s, charset string) bool {
	if charset == GB18030 && strings.Contains(s, string(utf8.RuneError)) {
		return false
	}
	return utf8.ValidString(s)
}

// ErrRowTooLong means a physical line is longer than Options.MaxRowBytes.
var ErrRowTooLong = errors.New("line too long")

// lineLimit fails once a line (bytes between newlines) exceeds max, so one endless row cannot
// take all memory.
type lineLimit struct {
	r   io.Reader
	max int
	cur int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for b := p[:n]; ; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.cur += len(b)
			break
		}
		if l.cur+i > l.max {
			l.cur += i
			break
		}
		l.cur, b = 0, b[i+1:]
	}
	if l.cur > l.max {
		return 0, fmt.Errorf("%w: a line is longer than %d bytes", ErrRowTooLong, l.max)
	}
	return n, err
}
