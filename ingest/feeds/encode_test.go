package feeds

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
)

func TestAppendJSON(t *testing.T) {
	at := time.Date(2026, 3, 5, 1, 2, 3, 456789000, time.UTC)
	for _, tc := range []struct {
		name string
		fr   feedrecord.Record
	}{
		{"plain", feedrecord.Record{BatchID: "b1", Source: "s", Dataset: "person", Row: 7, ReceivedAt: at,
			Fields: map[string]any{"name": "张三", "id_card": "51010419850712001X", "b": "", "a": nil}}},
		{"all members", feedrecord.Record{BatchID: "b1", Source: "s", SourceKind: "department", Dataset: "person", Row: -1,
			StandardVersion: "1.2", ReceivedAt: at.In(time.FixedZone("CST", 8*3600)),
			Fields:   map[string]any{"n": int64(-5), "f": 1.5e300, "t": true, "num": json.Number("12.50"), "x": []any{"a", 1.0}},
			Unmapped: map[string]any{"姓名": "x", "nested": map[string]any{"z": "1", "a": []any{}}}}},
		{"nil fields, empty unmapped", feedrecord.Record{Dataset: "person", ReceivedAt: at, Unmapped: map[string]any{}}},
		{"empty fields", feedrecord.Record{Dataset: "person", ReceivedAt: at, Fields: map[string]any{}}},
		{"escapes", feedrecord.Record{BatchID: "a\"b\\c", Source: "<s>&", Dataset: "p\n\t\x01", ReceivedAt: at,
			Fields: map[string]any{"k\u2028": "v\u2029", "bad\xff": "x\xfe\xffy", "ok": "½ — 🙂", "float": math.SmallestNonzeroFloat64}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.fr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendRecord(nil, &tc.fr, &keyOrder{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("appendRecord:\n got %s\nwant %s", got, want)
			}
			wantRaw, _ := json.Marshal(tc.fr.Fields)
			if gotRaw, err := appendObject(nil, tc.fr.Fields, nil); err != nil || string(gotRaw) != string(wantRaw) {
				t.Errorf("appendObject: got %s, %v; want %s", gotRaw, err, wantRaw)
			}
		})
	}
}

func TestAppendJSONErrors(t *testing.T) {
	if _, err := appendObject(nil, map[string]any{"x": math.NaN()}, nil); err == nil {
		t.Error("NaN: no error")
	}
	if _, err := appendRecord(nil, &feedrecord.Record{ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, nil, nil); err == nil {
		t.Error("year 10000: no error")
	}
}

// FuzzAppendJSON holds the appenders to json.Marshal for any strings as keys and values.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "张三", "a\"b", "<&>", "\u2028", "\xff", "\x00\x1f", "🙂\xed\xa0\x80"} {
		f.Add(s, s+"v")
	}
	f.Fuzz(func(t *testing.T, k, v string) {
		fr := feedrecord.Record{BatchID: v, Source: k, Dataset: "d", Fields: map[string]any{k: v, v: k, "n": nil},
			Unmapped: map[string]any{v: []any{k}}, StandardVersion: k}
		want, err := json.Marshal(fr)
		if err != nil {
			t.Fatal(err)
		}
		var o keyOrder
		for range 2 { // the second time with the key order remembered
			got, err := appendRecord(nil, &fr, &o, nil)
			if err != nil || string(got) != string(want) {
				t.Fatalf("got %s, %v; want %s", got, err, want)
			}
		}
	})
}

// TestKeyOrder: rows whose columns change (in number or in names) are still written sorted.
func TestKeyOrder(t *testing.T) {
	var o keyOrder
	for _, m := range []map[string]any{
		{"b": "1", "a": "2"}, {"b": "1", "a": "2"}, {"c": "1", "a": "2"}, {"c": "1", "a": "2", "b": ""}, {}, {"z": nil},
	} {
		want, _ := json.Marshal(m)
		got, err := appendObject(nil, m, &o)
		if err != nil || string(got) != string(want) {
			t.Errorf("%v: got %s, %v; want %s", m, got, err, want)
		}
	}
}

// TestAppendString holds appendString's byte scan to json.Marshal for every single byte, alone
// and between plain ones, and for the three-byte sequences around U+2028 and U+2029.
func TestAppendString(t *testing.T) {
	in := []string{"", "plain", "张三", "€", "\u2027", "\u2028", "\u2029", "\u202a", "a\u2028b", "\xe2", "\xe2\x80",
		"x\xe2\x80", "\xe2\x80\xa8", "\xe2\x80\xa9z", "\xed\xa0\x80", "\xf4\x90\x80\x80", "🙂", "½ — 🙂", "a\"b", "<&>"}
	for c := range 256 {
		in = append(in, string(rune(c)), string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"z",
			string([]byte{0xe2, 0x80, byte(c)}), string([]byte{0xe2, byte(c), 0xa8}), "中"+string([]byte{0xe2, byte(c)}))
	}
	for _, s := range in {
		want, _ := json.Marshal(s)
		if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want %s", s, got[1:], want)
		}
	}
}

// FuzzAppendString holds appendString to json.Marshal for any string.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "张三", "\u2028", "\xe2\x80", "\xff", "\x00", "<&>\"\\", "🙂\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
