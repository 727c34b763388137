package community

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// readCSV decodes a written CSV back into rows keyed by the standard's field names.
func readCSV(t *testing.T, r io.Reader, dataset string, rename map[string]string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	back := map[string]string{}
	for f, c := range rename {
		back[c] = f
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			if f, ok := back[col]; ok {
				col = f
			}
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	if want := len(fields[dataset]); len(recs[0]) != want {
		t.Fatalf("header %v: want %d columns", recs[0], want)
	}
	return rows
}

func TestCSVRoundTrip(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate = 0.05, 0.1 // dirty values (ideographic spaces, full-width digits) must survive too
	res := generate(t, cfg)
	rename := DefaultRename()
	for _, tc := range []struct {
		encoding string
		decode   func(io.Reader) io.Reader
	}{
		{EncodingUTF8, func(r io.Reader) io.Reader { return r }},
		{EncodingGBK, func(r io.Reader) io.Reader { return transform.NewReader(r, simplifiedchinese.GBK.NewDecoder()) }},
		{EncodingGB18030, func(r io.Reader) io.Reader {
			return transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
		}},
	} {
		for i := range res.Batches {
			b := &res.Batches[i]
			t.Run(tc.encoding+"/"+b.Source+"/"+b.Dataset, func(t *testing.T) {
				opt := WriteOptions{Encoding: tc.encoding, Rename: rename[b.Source][b.Dataset]}
				var buf bytes.Buffer
				if tc.encoding == EncodingGBK {
					// GBK lacks a few characters of real place names (䢺江镇): those rows must fail
					// with an error naming gb18030; the others round-trip.
					gbk := &Batch{Source: b.Source, Dataset: b.Dataset}
					for _, row := range b.Rows {
						if gbkSafe(row) {
							gbk.Rows = append(gbk.Rows, row)
						}
					}
					if len(gbk.Rows) < len(b.Rows) {
						if err := WriteCSV(io.Discard, b, opt); err == nil || !strings.Contains(err.Error(), "gb18030") {
							t.Fatalf("GBK of a row with a character GBK lacks: error %v, want one naming gb18030", err)
						}
					}
					if len(gbk.Rows) < len(b.Rows)*9/10 {
						t.Fatalf("only %d of %d rows encodable in GBK", len(gbk.Rows), len(b.Rows))
					}
					b = gbk
				}
				if err := WriteCSV(&buf, b, opt); err != nil {
					t.Fatal(err)
				}
				if tc.encoding != EncodingUTF8 && utf8.Valid(buf.Bytes()) {
					t.Fatalf("%s output is valid UTF-8: not transcoded", tc.encoding)
				}
				got := readCSV(t, tc.decode(&buf), b.Dataset, opt.Rename)
				if !reflect.DeepEqual(got, b.Rows) {
					t.Fatalf("%d rows read back differ from the %d written", len(got), len(b.Rows))
				}
			})
		}
	}
}

func gbkSafe(row map[string]string) bool {
	for _, v := range row {
		if _, err := simplifiedchinese.GBK.NewEncoder().String(v); err != nil {
			return false
		}
	}
	return true
}

func TestRenameColumns(t *testing.T) {
	res := generate(t, testConfig())
	b := res.Batch(SourcePolice, DatasetPerson)
	tests := []struct {
		name   string
		rename map[string]string
		want   []string
	}{
		{"standard names", nil, Fields(DatasetPerson)},
		{"police columns", DefaultRename()[SourcePolice][DatasetPerson],
			[]string{"公民身份号码", "姓名", "性别", "出生日期", "民族", "婚姻状况", "联系电话", "人口类型", "所属社区代码", "现住址", "户籍地址", "登记时间"}},
		{"partial", map[string]string{"id_card": "证件号", "name": "姓名"},
			append([]string{"证件号", "姓名"}, Fields(DatasetPerson)[2:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c, j bytes.Buffer
			opt := WriteOptions{Rename: tc.rename}
			if err := WriteCSV(&c, b, opt); err != nil {
				t.Fatal(err)
			}
			header, err := csv.NewReader(&c).Read()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(header, tc.want) {
				t.Fatalf("CSV header %v, want %v", header, tc.want)
			}
			if err := WriteJSONL(&j, b, opt); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(&j)
			sc.Buffer(nil, 1<<20)
			n := 0
			for ; sc.Scan(); n++ {
				var obj map[string]string
				if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
					t.Fatalf("line %d: %v", n+1, err)
				}
				if len(obj) != len(tc.want) {
					t.Fatalf("line %d has %d keys, want %d", n+1, len(obj), len(tc.want))
				}
				for k, col := range tc.want {
					if v, ok := obj[col]; !ok || v != b.Rows[n][Fields(DatasetPerson)[k]] {
						t.Fatalf("line %d column %s = %q, want %q", n+1, col, v, b.Rows[n][Fields(DatasetPerson)[k]])
					}
				}
			}
			if n != len(b.Rows) {
				t.Fatalf("%d JSON lines, want %d", n, len(b.Rows))
			}
		})
	}
}

func TestGB18030Fallback(t *testing.T) {
	b := &Batch{Source: SourcePolice, Dataset: DatasetPerson, Rows: []map[string]string{
		{"name": "王芳", "address": "大邑县䢺江镇"}, {"name": "李四", "address": "锦江区"}}}
	var buf bytes.Buffer
	w, err := NewCSVWriter(&buf, DatasetPerson, WriteOptions{Encoding: EncodingGBK, GB18030Fallback: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range b.Rows {
		if err := w.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Fallbacks() != 1 {
		t.Fatalf("%d rows in GB18030, want 1", w.Fallbacks())
	}
	for i, row := range readCSV(t, transform.NewReader(&buf, simplifiedchinese.GB18030.NewDecoder()), DatasetPerson, nil) {
		if row["address"] != b.Rows[i]["address"] {
			t.Fatalf("row %d: address %q, want %q", i+1, row["address"], b.Rows[i]["address"])
		}
	}
}

func TestWriteErrors(t *testing.T) {
	b := &Batch{Source: SourceCommunity, Dataset: DatasetPerson, Rows: []map[string]string{{"name": "王芳"}}}
	for _, tc := range []struct {
		name  string
		write func() error
		want  string
	}{
		{"CSV encoding", func() error { return WriteCSV(io.Discard, b, WriteOptions{Encoding: "latin1"}) }, "latin1"},
		{"JSON encoding", func() error { return WriteJSONL(io.Discard, b, WriteOptions{Encoding: EncodingGBK}) }, "always UTF-8"},
		{"CSV dataset", func() error { return WriteCSV(io.Discard, &Batch{Dataset: "cats"}, WriteOptions{}) }, "cats"},
		{"GBK cannot encode", func() error {
			return WriteCSV(io.Discard, &Batch{Dataset: DatasetPerson, Rows: []map[string]string{{"name": "王😀"}}}, WriteOptions{Encoding: EncodingGBK})
		}, "gbk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.write(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func FuzzReadGroundTruth(f *testing.F) {
	f.Add(`{"source":"community","dataset":"person","row":17,"field":"id_card","kind":"id_checksum","action":"quarantine","code":"format","detail":"checksum"}`)
	f.Add(`{"source":"police","dataset":"person","row":40,"field":"id_card","kind":"duplicate_person","action":"collapse","of":{"source":"community","dataset":"person","row":512}}` + "\n\n")
	f.Add(`{"source":"a","dataset":"b","row":0,"kind":"k","action":"x"}`)
	f.Add("{\"source\":\"a\"\n")
	f.Fuzz(func(t *testing.T, s string) {
		ds, err := ReadGroundTruth(strings.NewReader(s))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteGroundTruth(&b, ds); err != nil {
			t.Fatal(err)
		}
		back, err := ReadGroundTruth(&b)
		if err != nil || !reflect.DeepEqual(back, ds) {
			t.Fatalf("round trip of %d defects: %v", len(ds), err)
		}
	})
}
