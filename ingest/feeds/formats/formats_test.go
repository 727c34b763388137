package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func gbk(t testing.TB, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readAll returns the records as "row:json" lines and the row errors as "row N: reason".
func readAll(t testing.TB, r Reader) (recs, rejects []string, err error) {
	for {
		rec, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return recs, rejects, nil
		case errors.As(err, &re):
			rejects = append(rejects, re.Error())
			continue
		case err != nil:
			return recs, rejects, err
		}
		b, _ := json.Marshal(rec.Fields)
		recs = append(recs, string(rune('0'+rec.Row))+":"+string(b))
	}
}

func TestCSV(t *testing.T) {
	for _, tc := range []struct {
		name, body, charset string
		wantCharset         string
		recs, rejects       []string
		wantErr             string
	}{
		{name: "utf-8", body: "姓名, 证件号\n张三,510104199001011234\n\n李四,\"5101,04\"\n",
			wantCharset: UTF8, recs: []string{`1:{"姓名":"张三","证件号":"510104199001011234"}`, `2:{"姓名":"李四","证件号":"5101,04"}`}},
		{name: "bom", body: "\xEF\xBB\xBFa,b\n1,2\n", wantCharset: UTF8, recs: []string{`1:{"a":"1","b":"2"}`}},
		{name: "crlf and lazy quote", body: "a,b\r\n1,x\"y\r\n", wantCharset: UTF8, recs: []string{`1:{"a":"1","b":"x\"y"}`}},
		{name: "gbk detected", body: gbk(t, "姓名,住址\n王五,成都市锦江区\n"), wantCharset: GB18030,
			recs: []string{`1:{"住址":"成都市锦江区","姓名":"王五"}`}},
		{name: "gbk declared", body: gbk(t, "a,b\n一,二\n"), charset: "GBK", wantCharset: GB18030, recs: []string{`1:{"a":"一","b":"二"}`}},
		{name: "column count", body: "a,b\n1,2,3\n4\n5,6\n", wantCharset: UTF8,
			recs: []string{`3:{"a":"5","b":"6"}`}, rejects: []string{"row 1: has 3 columns, the header has 2", "row 2: has 1 columns, the header has 2"}},
		{name: "bad utf-8 in a declared utf-8 body", body: "a\nok\n\xff\xfe\n", charset: "utf-8", wantCharset: UTF8,
			recs: []string{`1:{"a":"ok"}`}, rejects: []string{`row 2: column "a" is not valid utf-8 (declare the charset, e.g. text/csv; charset=gbk)`}},
		{name: "empty", body: "", wantErr: "empty body"},
		{name: "duplicate header", body: "a,a\n", wantErr: `both named "a"`},
		{name: "empty header", body: "a,,b\n", wantErr: "column 2 has no name"},
		{name: "bad charset", body: "a\n", charset: "latin1", wantErr: "want utf-8, gbk or gb18030"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(tc.body), Options{Charset: tc.charset})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want …%s…", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Charset() != tc.wantCharset {
				t.Errorf("charset %s, want %s", r.Charset(), tc.wantCharset)
			}
			recs, rejects, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(recs, tc.recs) || !reflect.DeepEqual(rejects, tc.rejects) {
				t.Fatalf("got %q %q\nwant %q %q", recs, rejects, tc.recs, tc.rejects)
			}
		})
	}
}

func TestJSONL(t *testing.T) {
	long := `{"a":"` + strings.Repeat("x", 100) + `"}`
	for _, tc := range []struct {
		name, body    string
		recs, rejects []string
	}{
		{"objects", "{\"a\":1.50,\"b\":\"二\"}\n\n  {\"c\":null}\r\n{\"n\":{\"x\":[1]}}", []string{`1:{"a":1.50,"b":"二"}`, `2:{"c":null}`, `3:{"n":{"x":[1]}}`}, nil},
		{"not objects", "[1]\nnull\n{\"a\":1} {\"b\":2}\n{bad\n{\"ok\":true}\n", []string{`5:{"ok":true}`},
			[]string{"row 1: not a JSON object: json: cannot unmarshal array into Go value of type map[string]interface {}",
				"row 2: not a JSON object: null", "row 3: more than one JSON value on the line",
				"row 4: not a JSON object: invalid character 'b' looking for beginning of object key string"}},
		{"too long", long + "\n{\"a\":2}\n" + long, []string{`2:{"a":2}`}, []string{"row 1: line longer than 64 bytes", "row 3: line longer than 64 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewJSONL(strings.NewReader(tc.body), Options{MaxRowBytes: 64})
			if err != nil {
				t.Fatal(err)
			}
			recs, rejects, err := readAll(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(recs, tc.recs) || !reflect.DeepEqual(rejects, tc.rejects) {
				t.Fatalf("got %q %q\nwant %q %q", recs, rejects, tc.recs, tc.rejects)
			}
		})
	}
}

func TestDetectCharset(t *testing.T) {
	utf := []byte("成都")
	for _, tc := range []struct {
		name   string
		prefix []byte
		more   bool
		want   string
	}{
		{"ascii", []byte("a,b\n"), false, UTF8},
		{"utf-8", utf, false, UTF8},
		{"utf-8 cut at the prefix end", utf[:4], true, UTF8},
		{"utf-8 cut at the body end", utf[:4], false, GB18030},
		{"gbk", []byte(gbk(t, "成都市")), false, GB18030},
		{"empty", nil, false, UTF8},
	} {
		if got := DetectCharset(tc.prefix, tc.more); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// Detection looks at DetectBytes: a GBK body whose first non-ASCII byte is past it is read as
	// UTF-8 and its rows rejected, not silently mangled.
	body := "a\n" + strings.Repeat("x\n", DetectBytes) + gbk(t, "成都") + "\n"
	r, err := NewCSV(strings.NewReader(body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, rejects, err := readAll(t, r)
	if err != nil || len(rejects) != 1 || r.Charset() != UTF8 {
		t.Fatalf("charset %s, rejects %q, err %v", r.Charset(), rejects, err)
	}
}

func TestFormatNames(t *testing.T) {
	for _, tc := range []struct {
		ct       string
		format   Format
		charset  string
		filename string
		fromName Format
	}{
		{"text/csv; charset=GBK", CSV, "GBK", "人口.CSV", CSV},
		{"application/x-ndjson", JSONL, "", "a.jsonl.gz", JSONL},
		{"application/vnd.apache.parquet", Parquet, "", "x.parquet", Parquet},
		{"application/vnd.apache.arrow.file", Arrow, "", "x.feather", Arrow},
		{"application/vnd.apache.arrow.stream", Arrow, "", "x.txt", ""},
	} {
		f, cs, err := FromContentType(tc.ct)
		if err != nil || f != tc.format || cs != tc.charset {
			t.Errorf("%s: %s %s %v", tc.ct, f, cs, err)
		}
		if got := FromFilename(tc.filename); got != tc.fromName {
			t.Errorf("%s: %s, want %s", tc.filename, got, tc.fromName)
		}
	}
	if _, _, err := FromContentType("application/xml"); err == nil {
		t.Error("application/xml accepted")
	}
}

func TestLineLimit(t *testing.T) {
	_, err := NewCSV(bytes.NewReader(bytes.Repeat([]byte("a"), 100)), Options{MaxRowBytes: 10})
	if err == nil || !strings.Contains(err.Error(), "longer than 10 bytes") {
		t.Fatalf("err %v", err)
	}
}
