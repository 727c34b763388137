package formats

import (
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

func (c *csvReader) Charset() string { return c.charset }
func (c *csvReader) Close() error    { return nil }

func (c *csvReader) Next() (Record, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	c.row++
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return Record{}, fmt.Errorf("CSV row %d: %w", c.row, err)
		}
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return Record{}, &RowError{Row: c.row, Reason: fmt.Sprintf("has %d columns, the header has %d", len(rec), len(c.header))}
		}
		return Record{}, &RowError{Row: c.row, Reason: fmt.Sprintf("line %d column %d: %v", pe.Line, pe.Column, pe.Err)}
	}
	fields := make(map[string]any, len(rec))
	for i, v := range rec {
		if !validText(v, c.charset) {
			return Record{}, &RowError{Row: c.row, Reason: fmt.Sprintf("column %q is not valid %s (declare the charset, e.g. text/csv; charset=gbk)", c.header[i], c.charset)}
		}
		fields[c.header[i]] = v
	}
	return Record{Row: c.row, Fields: fields}, nil
}

// validText rejects invalid UTF-8 and, for transcoded GB18030, the replacement character the
// decoder puts where bytes were not GB18030.
func validText(s, charset string) bool {
	if charset == GB18030 {
		return !strings.ContainsRune(s, utf8.RuneError)
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
	for _, b := range p[:n] {
		if b == '\n' {
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > l.max {
			return 0, fmt.Errorf("%w: a line is longer than %d bytes", ErrRowTooLong, l.max)
		}
	}
	return n, err
}
