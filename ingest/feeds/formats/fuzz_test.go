package formats

import (
	"bytes"
	"errors"
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
	})
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
