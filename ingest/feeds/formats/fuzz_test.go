package formats

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// drain reads r to the end, checking the promises of Reader: ascending rows, valid UTF-8 strings.
func drain(t *testing.T, r Reader) {
	var last int64
	for i := 0; i < 100_000; i++ {
		rec, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return
		case errors.As(err, &re):
			if re.Row <= last {
				t.Fatalf("row %d after %d", re.Row, last)
			}
			last = re.Row
			continue
		case err != nil:
			return
		}
		if rec.Row <= last {
			t.Fatalf("row %d after %d", rec.Row, last)
		}
		last = rec.Row
		for k, v := range rec.Fields {
			if s, ok := v.(string); !utf8.ValidString(k) || ok && !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 passed: %q=%q", k, v)
			}
		}
	}
	t.Fatal("reader does not end")
}

func FuzzCSV(f *testing.F) {
	f.Add("a,b\n1,2\n", "")
	f.Add("姓名,证件号\n张三,\"51,01\"\n", "utf-8")
	f.Add("\xd0\xd5\xc3\xfb\n\xd5\xc5\xc8\xfd\n", "")
	f.Add("a\n\"unterminated\n", "gbk")
	f.Add("a,b\n1,2,3\n\xff\n", "")
	f.Fuzz(func(t *testing.T, body, charset string) {
		r, err := NewCSV(strings.NewReader(body), Options{Charset: charset, MaxRowBytes: 256})
		if err != nil {
			return
		}
		drain(t, r)
		r, _ = NewCSV(strings.NewReader(body), Options{Charset: charset, MaxRowBytes: 256})
		r2, _ := NewCSV(strings.NewReader(body), Options{Charset: charset, MaxRowBytes: 256})
		sameRows(t, r.(ColumnReader), r2)
	})
}

// sameRows reads cr by position and r as maps and fails on any difference.
func sameRows(t *testing.T, cr ColumnReader, r Reader) {
	cols := cr.Columns()
	for {
		row, values, err := cr.NextValues()
		rec, err2 := r.Next()
		if fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("NextValues: %v; Next: %v", err, err2)
		}
		if err == io.EOF || err != nil && !errors.As(err, new(*RowError)) {
			return
		}
		if err != nil {
			continue
		}
		if row != rec.Row || len(values) != len(cols) || len(rec.Fields) != len(cols) {
			t.Fatalf("row %d, %d values of %d columns; Next: row %d, %v", row, len(values), len(cols), rec.Row, rec.Fields)
		}
		for i, c := range cols {
			if !utf8.ValidString(values[i]) || rec.Fields[c] != values[i] {
				t.Fatalf("row %d column %q: %q; Next: %q", row, c, values[i], rec.Fields[c])
			}
		}
	}
}

func FuzzJSONL(f *testing.F) {
	f.Add("{\"a\":1}\n{\"b\":\"二\"}\n")
	f.Add("[1]\nnull\n{\n")
	f.Add("{\"a\":1} 2\n\xff\n")
	f.Add(strings.Repeat("{\"x\":\"y\"}", 40))
	f.Fuzz(func(t *testing.T, body string) {
		r, err := NewJSONL(strings.NewReader(body), Options{MaxRowBytes: 128})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, r)
	})
}

func FuzzDetectCharset(f *testing.F) {
	f.Add([]byte("a,b"), true)
	f.Add([]byte("成都"), false)
	f.Add([]byte("成都")[:4], true)
	f.Add([]byte{0xb3, 0xc9, 0xb6, 0xbc}, false)
	f.Fuzz(func(t *testing.T, prefix []byte, more bool) {
		cs := DetectCharset(prefix, more)
		if utf8.Valid(prefix) && cs != UTF8 {
			t.Fatalf("valid UTF-8 detected as %s", cs)
		}
		if cs == UTF8 && !more && !utf8.Valid(prefix) {
			t.Fatalf("invalid UTF-8 detected as UTF-8")
		}
		dec, got, err := Decode(bytes.NewReader(prefix), "")
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(dec)
		if got == GB18030 && !utf8.Valid(out) {
			t.Fatalf("GB18030 decoding gave invalid UTF-8")
		}
	})
}

// FuzzLineLimit holds lineLimit to the rule it implements byte by byte: a read fails once a line
// (bytes between newlines) grows longer than max.
func FuzzLineLimit(f *testing.F) {
	f.Add([]byte("ab\ncd\n"), uint8(2), uint8(3))
	f.Add([]byte("abc\n\n\nabcd"), uint8(3), uint8(1))
	f.Add([]byte("a\nbcdef\ng"), uint8(4), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, max, chunk uint8) {
		l := &lineLimit{r: bytes.NewReader(data), max: int(max)}
		cur := 0
		for off := 0; ; {
			p := make([]byte, int(chunk%32)+1)
			n, err := l.Read(p)
			// The reference: the bytes this read would have returned, counted one by one.
			end := min(off+len(p), len(data))
			fail := false
			for _, b := range data[off:end] {
				if b == '\n' {
					cur = 0
					continue
				}
				if cur++; cur > int(max) {
					fail = true
					break
				}
			}
			if fail != errors.Is(err, ErrRowTooLong) {
				t.Fatalf("at %d: error %v, want failure %v", off, err, fail)
			}
			if fail || err != nil {
				return
			}
			if n != end-off {
				t.Fatalf("at %d: read %d bytes, want %d", off, n, end-off)
			}
			off = end
		}
	})
}
