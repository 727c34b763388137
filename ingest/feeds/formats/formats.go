package formats

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
)

// Format names an accepted body or file format.
type Format string

// The formats.
const (
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
	Arrow   Format = "arrow" // Arrow IPC, file (Feather v2) or stream format
)

// Text reports whether the format is text (a charset applies) and readable from a plain stream.
func (f Format) Text() bool { return f == CSV || f == JSONL }

// ParseFormat reads a format name: csv, jsonl (also ndjson, json), parquet, arrow (also feather,
// ipc, arrows).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv":
		return CSV, nil
	case "jsonl", "ndjson", "json":
		return JSONL, nil
	case "parquet":
		return Parquet, nil
	case "arrow", "feather", "ipc", "arrows":
		return Arrow, nil
	}
	return "", fmt.Errorf("format %q: want csv, jsonl, parquet or arrow", s)
}

// FromFilename guesses the format from a file name's extension ("" when unknown); a trailing .gz
// is ignored.
func FromFilename(name string) Format {
	name = strings.TrimSuffix(strings.ToLower(name), ".gz")
	f, err := ParseFormat(strings.TrimPrefix(path.Ext(name), "."))
	if err != nil {
		return ""
	}
	return f
}

// FromContentType reads a Content-Type: text/csv, application/x-ndjson (also application/jsonl,
// application/json-seq), application/vnd.apache.parquet (also application/x-parquet),
// application/vnd.apache.arrow.file or .stream. It returns the format and the charset parameter
// ("" when absent); an unknown media type is an error naming it.
func FromContentType(ct string) (Format, string, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", "", fmt.Errorf("Content-Type %q: %w", ct, err)
	}
	cs := params["charset"]
	switch mt {
	case "text/csv", "application/csv":
		return CSV, cs, nil
	case "application/x-ndjson", "application/jsonl", "application/json-seq", "application/x-jsonlines", "application/jsonlines":
		return JSONL, cs, nil
	case "application/vnd.apache.parquet", "application/x-parquet":
		return Parquet, cs, nil
	case "application/vnd.apache.arrow.file", "application/vnd.apache.arrow.stream":
		return Arrow, cs, nil
	}
	return "", "", fmt.Errorf("Content-Type %q: want text/csv, application/x-ndjson, application/vnd.apache.parquet or application/vnd.apache.arrow.file", mt)
}

// Record is one parsed row: the source's column names and their values (string, bool, int64,
// float64, json.Number, nil, or slices and maps of those).
type Record struct {
	// Row is the 1-based ordinal of the row in the body: CSV counts data rows after the header,
	// JSON lines counts non-blank lines, Parquet and Arrow count rows.
	Row    int64
	Fields map[string]any
}

// RowError is a row the reader could not parse; reading continues with the next row.
type RowError struct {
	Row    int64
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Reason) }

// ErrFormat is matched by errors that make a whole body unreadable (no header, not Parquet …).
var ErrFormat = errors.New("unreadable body")

type formatError struct{ msg string }

func (e *formatError) Error() string        { return e.msg }
func (e *formatError) Is(target error) bool { return target == ErrFormat }

func formatErr(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// Reader yields the records of one body.
type Reader interface {
	// Next returns the next record, a *RowError for a row it skipped, io.EOF at the end, or another
	// error when the rest of the body cannot be read.
	Next() (Record, error)
	// Charset is the text encoding read ("utf-8" or "gb18030"; "" for binary formats).
	Charset() string
	// Close releases what the reader holds (not the underlying input).
	Close() error
}

// ColumnReader is a Reader whose rows all hold the same columns (CSV). A caller that encodes
// many rows resolves the column names once and reads each row's values by position, without the
// map Next builds.
type ColumnReader interface {
	Reader
	// Columns are the column names, in the order of the values NextValues returns.
	Columns() []string
	// NextValues is Next without the map: the row's ordinal and its values in Columns' order
	// (valid UTF-8, as every Reader's strings), valid until the next call, or the error Next
	// would return.
	NextValues() (row int64, values []string, err error)
}

// Options tune the readers. Zero values mean the defaults.
type Options struct {
	// Charset of a text body: "" detects (valid UTF-8 in the first DetectBytes, else GB18030),
	// otherwise utf-8, gbk, gb2312, gb18030 (GBK and GB2312 are read as GB18030, their superset).
	Charset string
	// MaxRowBytes bounds one JSON line or CSV row (default 1 MiB); a longer one is rejected.
	MaxRowBytes int
}

func (o Options) maxRowBytes() int {
	if o.MaxRowBytes <= 0 {
		return 1 << 20
	}
	return o.MaxRowBytes
}

// File is a body that random access can read (a spooled upload): Parquet and Arrow files need it.
type File interface {
	io.Reader
	io.ReaderAt
}

// Open returns the Reader of format over f of size bytes, read from its current offset for text
// and stream formats.
func Open(format Format, f File, size int64, opts Options) (Reader, error) {
	switch format {
	case CSV:
		return NewCSV(f, opts)
	case JSONL:
		return NewJSONL(f, opts)
	case Parquet:
		return NewParquet(f, size)
	case Arrow:
		return NewArrow(f, size)
	}
	return nil, fmt.Errorf("format %q: want csv, jsonl, parquet or arrow", format)
}
