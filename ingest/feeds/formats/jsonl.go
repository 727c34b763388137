package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

type jsonlReader struct {
	br      *bufio.Reader
	charset string
	max     int
	row     int64
}

// NewJSONL reads JSON lines from r: one JSON object a line, blank lines skipped. Numbers keep
// their text (json.Number). A line that is not one JSON object, is not valid text in the charset
// or is longer than Options.MaxRowBytes is a *RowError.
func NewJSONL(r io.Reader, opts Options) (Reader, error) {
	dec, cs, err := Decode(r, opts.Charset)
	if err != nil {
		return nil, err
	}
	return &jsonlReader{br: bufio.NewReaderSize(dec, 64<<10), charset: cs, max: opts.maxRowBytes()}, nil
}

func (j *jsonlReader) Charset() string { return j.charset }
func (j *jsonlReader) Close() error    { return nil }

func (j *jsonlReader) Next() (Record, error) {
	for {
		line, tooLong, err := j.readLine()
		if err != nil && !(err == io.EOF && len(line) > 0) {
			return Record{}, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 && !tooLong {
			continue
		}
		j.row++
		if tooLong {
			return Record{}, &RowError{Row: j.row, Reason: fmt.Sprintf("line longer than %d bytes", j.max)}
		}
		return parseJSONLine(j.row, line, j.charset)
	}
}

// parseJSONLine decodes one line holding one JSON object.
func parseJSONLine(row int64, line []byte, charset string) (Record, error) {
	if charset == GB18030 && bytes.ContainsRune(line, utf8.RuneError) || !utf8.Valid(line) {
		return Record{}, &RowError{Row: row, Reason: "not valid " + charset}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		return Record{}, &RowError{Row: row, Reason: "not a JSON object: " + err.Error()}
	}
	if fields == nil {
		return Record{}, &RowError{Row: row, Reason: "not a JSON object: null"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, &RowError{Row: row, Reason: "more than one JSON value on the line"}
	}
	return Record{Row: row, Fields: fields}, nil
}

// readLine returns the next line without its newline; a line longer than max is consumed and
// reported with tooLong, its bytes dropped.
func (j *jsonlReader) readLine() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := j.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > j.max+1 {
				tooLong, buf = true, nil
			} else if err == nil && buf == nil {
				return bytes.TrimSuffix(chunk, []byte("\n")), false, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte("\n")), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if tooLong {
				return nil, true, nil
			}
			return buf, false, io.EOF
		default:
			return nil, false, fmt.Errorf("read JSON lines: %w", err)
		}
	}
}
