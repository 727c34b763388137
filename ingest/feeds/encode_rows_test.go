package feeds

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/citypulse/citypulse/ingest/feeds/formats"
)

// checkPlan encodes rows (values by column, valid UTF-8 as a formats.ColumnReader gives them)
// through a columnPlan and through encode and fails on any byte that differs.
func checkPlan(t *testing.T, m Manifest, dc DatasetConfig, columns []string, rows [][]string) {
	t.Helper()
	received := time.Date(2026, 3, 5, 1, 2, 3, 456789000, time.UTC)
	p := newColumnPlan(m, dc, columns, received)
	if p == nil {
		t.Fatalf("no plan for columns %q, mapping %v", columns, dc.Mapping)
	}
	var (
		o   encodeOrders
		mem arena
	)
	for i, vals := range rows {
		row := int64(i + 1)
		fields := make(map[string]any, len(columns))
		for j, c := range columns {
			fields[c] = vals[j]
		}
		wantValue, wantKey, wantRaw, reason := encode(m, dc, formats.Record{Row: row, Fields: fields}, received, &o)
		if reason != "" {
			t.Fatalf("encode: %s", reason)
		}
		value, key, raw := p.encode(&mem, row, vals)
		if !bytes.Equal(value, wantValue) || !bytes.Equal(key, wantKey) || raw != string(wantRaw) {
			t.Fatalf("row %d %q:\nvalue %s\n want %s\nkey %q want %q\nraw %s\nwant %s", row, vals, value, wantValue, key, wantKey, raw, wantRaw)
		}
	}
}

func TestColumnPlan(t *testing.T) {
	std := []string{"id_card", "name", "gender", "birth_date", "mobile", "address"}
	zh := []string{"公民身份号码", "姓名", "性别", "现住址", "备注"}
	rows := [][]string{
		{"51010419850712001X", "张三", "1", "1985-07-12", "13800000000", "锦江区红星路一段1号"},
		{"", "李 四", "", "", "", ""},
		{"5101041985071200\u2028", "a\"b\\c", "<&>", "\x01\t\n", "½ — 🙂", "x\u2029\ufffdy"},
	}
	zhRows := [][]string{
		{"51010419850712001X", "张三", "男", "锦江区", "备注 \"引号\""},
		{"", "", "", "", ""},
	}
	m := Manifest{BatchID: "01JN0000000000000000000000", Source: "police", SourceKind: KindDepartment, Dataset: "person", StandardVersion: "1.0"}
	police := map[string]string{"公民身份号码": "id_card", "姓名": "name", "性别": "gender", "现住址": "address"}
	for _, tc := range []struct {
		name    string
		m       Manifest
		dc      DatasetConfig
		columns []string
		rows    [][]string
	}{
		{"standard names, key field", m, DatasetConfig{KeyField: "id_card"}, std, rows},
		{"standard names, no key field", m, DatasetConfig{}, std, rows},
		{"key field not a column", m, DatasetConfig{KeyField: "uscc"}, std, rows},
		{"no kind, no version", Manifest{BatchID: "b\"1", Source: "s<1>", Dataset: "person"}, DatasetConfig{KeyField: "name"}, std, rows},
		{"mapping with unmapped columns", m, DatasetConfig{Mapping: police, KeyField: "id_card"}, zh, zhRows},
		{"mapping of every column", m, DatasetConfig{Mapping: map[string]string{"备注": "note", "公民身份号码": "id_card",
			"姓名": "name", "性别": "gender", "现住址": "address"}, KeyField: "id_card"}, zh, zhRows},
		{"mapping of no column", m, DatasetConfig{Mapping: map[string]string{"x": "y"}, KeyField: "y"}, zh, zhRows},
		{"mapping swaps names", m, DatasetConfig{Mapping: map[string]string{"name": "gender", "gender": "name"}, KeyField: "gender"}, std, rows},
		{"one column", m, DatasetConfig{KeyField: "a"}, []string{"a"}, [][]string{{"1"}, {""}}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkPlan(t, tc.m, tc.dc, tc.columns, tc.rows) })
	}
}

// TestColumnPlanFallback: rows that the plan cannot write as encode does go through encode.
func TestColumnPlanFallback(t *testing.T) {
	m := Manifest{BatchID: "b", Source: "s", Dataset: "person"}
	if p := newColumnPlan(m, DatasetConfig{Mapping: map[string]string{"a": "x", "b": "x"}}, []string{"a", "b"}, time.Now()); p != nil {
		t.Error("two columns mapped to one field: got a plan")
	}
	if p := newColumnPlan(m, DatasetConfig{}, []string{"a"}, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); p != nil {
		t.Error("year 10000: got a plan")
	}
}

// FuzzColumnPlan holds columnPlan to encode for any column names, values and mappings between them.
func FuzzColumnPlan(f *testing.F) {
	f.Add("id_card", "姓名", "51010419850712001X", "张三", uint8(0))
	f.Add("a\"b", "<&>\xff", "\u2028", "\u2029\ufffd", uint8(1))
	f.Add("公民身份号码", "备注", "", "x\x00y", uint8(2))
	f.Add("b", "a", "🙂\x7f", "\\", uint8(7))
	f.Fuzz(func(t *testing.T, c1, c2, v1, v2 string, mode uint8) {
		columns := []string{c1, c2, "id"}
		if c1 == c2 || c1 == "id" || c2 == "id" || !utf8.ValidString(c1) || !utf8.ValidString(v1) || !utf8.ValidString(v2) {
			return // distinct columns; the values a reader gives are valid UTF-8 (column names need not be)
		}
		var dc DatasetConfig
		switch mode % 4 {
		case 1:
			dc.Mapping = map[string]string{c1: "field"}
		case 2:
			dc.Mapping = map[string]string{c1: c2, c2: c1, "id": "id_card"}
		case 3:
			dc.Mapping = map[string]string{c2: v1}
		}
		if mode&4 != 0 {
			dc.KeyField = c1
			if dc.Mapping != nil {
				dc.KeyField = dc.Mapping[c1]
			}
		}
		targets := map[string]bool{}
		for _, field := range dc.Mapping {
			if targets[field] {
				return // two columns mapped to one field: Validate rejects the mapping
			}
			targets[field] = true
		}
		m := Manifest{BatchID: v2, Source: c2, SourceKind: v1, Dataset: "person", StandardVersion: c1}
		checkPlan(t, m, dc, columns, [][]string{{v1, v2, c1}, {v2, "", v1}})
	})
}

// mapsOnly hides a reader's ColumnReader methods, so that readAhead encodes its rows as maps.
type mapsOnly struct{ formats.Reader }

// readAll runs readAhead over rd to the end.
func readAll(rd formats.Reader, m Manifest, dc DatasetConfig, received time.Time) []shipRow {
	out := make(chan []shipRow, 4)
	go readAhead(rd, m, dc, received, make(chan struct{}), out)
	var rows []shipRow
	for b := range out {
		rows = append(rows, b...)
	}
	return rows
}

// checkReadAhead reads a CSV body through readAhead twice, rows by position and rows as maps,
// and fails on any difference in what would be shipped.
func checkReadAhead(t *testing.T, body, charset string, dc DatasetConfig) []shipRow {
	t.Helper()
	m := Manifest{BatchID: "01KMXV3T8Q0000000000000000", Source: "police", SourceKind: KindDepartment, Dataset: "person", Format: "csv"}
	received := time.Date(2026, 3, 5, 1, 2, 3, 456789000, time.UTC)
	var got [2][]shipRow
	for i := range got {
		rd, err := formats.NewCSV(strings.NewReader(body), formats.Options{Charset: charset, MaxRowBytes: 256})
		if err != nil {
			return nil
		}
		if _, ok := rd.(formats.ColumnReader); !ok {
			t.Fatal("the CSV reader is not a ColumnReader")
		}
		if i == 1 {
			rd = mapsOnly{rd}
		}
		got[i] = readAll(rd, m, dc, received)
	}
	if len(got[0]) != len(got[1]) {
		t.Fatalf("%d rows by position, %d as maps", len(got[0]), len(got[1]))
	}
	for i, a := range got[0] {
		b := got[1][i]
		if a.row != b.row || string(a.value) != string(b.value) || string(a.key) != string(b.key) || a.raw != b.raw ||
			a.reject != b.reject || fmt.Sprint(a.err) != fmt.Sprint(b.err) {
			t.Fatalf("row %d:\nby position %+v\n    as maps %+v", i, a, b)
		}
	}
	return got[0]
}

func TestReadAheadColumns(t *testing.T) {
	police := DatasetConfig{Mapping: map[string]string{"公民身份号码": "id_card", "姓名": "name"}, KeyField: "id_card"}
	gbk := func(s string) string {
		b, err := simplifiedchinese.GBK.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name, body, charset string
		dc                  DatasetConfig
		want                string // per row: ok, rejected or the end of an unreadable body
	}{
		{"standard names", "id_card,name,address\n51010419850712001X,张三,\"锦江区, 1号\"\n,李四,\n", "", DatasetConfig{KeyField: "id_card"}, "ok ok"},
		{"rejected rows", "id_card,name\n1,2,3\n\"a\"\"b\",<&>\n4\n5,\xff\n6,\u2028\n", "utf-8", DatasetConfig{KeyField: "id_card"}, "rejected ok rejected rejected ok"},
		{"mapping, GBK", gbk("公民身份号码,姓名,备注\n51010419850712001X,张三,x\n,李四,\"多\n行\"\n"), "gbk", police, "ok ok"},
		{"mapping, GBK detected, bad bytes", gbk("公民身份号码,姓名,备注\n1,张三,x\n") + "2,\x81\x20,y\n", "", police, "ok rejected"},
		// The line limit fails the read that holds the long line: the rows after are not read.
		{"too long a line", "a,b\n" + strings.Repeat("1,2\n", 2000) + strings.Repeat("x", 300) + ",y\n3,4\n", "", DatasetConfig{},
			strings.Repeat("ok ", 2000) + "end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range checkReadAhead(t, tc.body, tc.charset, tc.dc) {
				switch {
				case r.err != nil:
					got = append(got, "end")
				case r.reject != "":
					got = append(got, "rejected")
				default:
					got = append(got, "ok")
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("rows: %s, want %s", g, tc.want)
			}
		})
	}
}

// FuzzReadAheadCSV holds readAhead's rows by position to its rows as maps for any CSV body.
func FuzzReadAheadCSV(f *testing.F) {
	f.Add("id_card,name\n1,张三\n,\"a\"\"b\"\n", "", false)
	f.Add("姓名,证件号\n张三,\"51,01\"\n1,2,3\n", "utf-8", true)
	f.Add("\xd0\xd5\xc3\xfb,b\n\xd5\xc5\xc8\xfd,\x81\n", "gbk", true)
	f.Fuzz(func(t *testing.T, body, charset string, mapped bool) {
		dc := DatasetConfig{KeyField: "id_card"}
		if mapped {
			dc = DatasetConfig{Mapping: map[string]string{"姓名": "name", "证件号": "id_card", "b": "x"}, KeyField: "id_card"}
		}
		checkReadAhead(t, body, charset, dc)
	})
}
