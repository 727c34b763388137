package review

import (
	"encoding/json"
	"testing"
)

func TestColumnCanonical(t *testing.T) {
	tests := []struct {
		typ     string
		raw     string
		want    string // "<nil>" for NULL
		wantErr bool
	}{
		{"String", `"张三"`, "张三", false},
		{"String", `null`, "", false},
		{"Nullable(String)", `""`, "", false},
		{"Nullable(String)", `null`, "<nil>", false},
		{"Date", `"2024-02-29"`, "2024-02-29", false},
		{"Date", `""`, "1970-01-01", false},
		{"Date", `"2024-02-30"`, "", true},
		{"Nullable(Date)", `""`, "<nil>", false},
		{"Nullable(Date)", `"2025-01-31"`, "2025-01-31", false},
		{"DateTime", `"2024-03-05 08:09:10"`, "2024-03-05 08:09:10", false},
		{"Nullable(DateTime)", `null`, "<nil>", false},
		{"Date", `"1969-12-31"`, "", true},
		{"Date", `"2106-01-01"`, "", true},
		{"DateTime", `"1970-01-01 07:59:59"`, "", true},
		{"DateTime", `"2200-01-01 00:00:00"`, "", true},
		{"Nullable(DateTime)", `"2024-03-05T08:09:10"`, "", true},
		{"UInt8", `"1"`, "1", false},
		{"UInt8", `"true"`, "1", false},
		{"UInt8", `false`, "0", false},
		{"UInt8", `"256"`, "", true},
		{"UInt64", `"18446744073709551615"`, "18446744073709551615", false},
		{"UInt64", `"-1"`, "", true},
		{"UInt64", `null`, "0", false},
		{"Int64", `""`, "0", false},
		{"DateTime", `null`, "1970-01-01 08:00:00", false},
		{"Int64", `"-42"`, "-42", false},
		{"Nullable(Int64)", `""`, "<nil>", false},
		{"Float64", `"89.50"`, "89.5", false},
		{"Float64", `12`, "12", false},
		{"Nullable(Float64)", `"x"`, "", true},
		{"Array(String)", `["dirty_fixed","code_mapped"]`, `["dirty_fixed","code_mapped"]`, false},
		{"Array(String)", `null`, `[]`, false},
		{"Array(String)", `"x"`, "", true},
		{"String", `["a"]`, "", true},
		{"String", `{"a":1}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.raw, func(t *testing.T) {
			c, err := newColumn("c", tt.typ)
			if err != nil {
				t.Fatal(err)
			}
			sv, err := decodeStaged(json.RawMessage(tt.raw))
			if err == nil {
				var p *string
				if p, err = c.canonical(sv); err == nil {
					got := "<nil>"
					if p != nil {
						got = *p
					}
					if got != tt.want {
						t.Errorf("canonical = %q, want %q", got, tt.want)
					}
				}
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestNewColumnRefusesUnknownTypes(t *testing.T) {
	for _, typ := range []string{"UInt32", "Decimal(9, 2)", "Array(UInt8)", "Nullable(Array(String))", "Nullable(", "LowCardinality(String)"} {
		if _, err := newColumn("c", typ); err == nil {
			t.Errorf("newColumn(%q): no error", typ)
		}
	}
}

func TestCursor(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"1700000000.abc123", true},
		{"0.0", true},
		{"4294967295.ff", true},
		{"4294967296.ff", false},
		{"-1.ff", false},
		{"01.ff", false},
		{"+1.ff", false},
		{"1700000000", false},
		{"1700000000.", false},
		{"1700000000.ABC", false},
		{"1700000000.a.b", false},
		{"", false},
	}
	for _, tt := range tests {
		c, err := parseCursor(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseCursor(%q) = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if err == nil && c.String() != tt.in {
			t.Errorf("parseCursor(%q).String() = %q", tt.in, c.String())
		}
	}
}

// FuzzParseCursor: any text either fails or reads back to itself.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"1700000000.abc123", "0.0", "4294967296.ff", "1.", ".", "-0.a", "1e3.a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseCursor(s)
		if err != nil {
			return
		}
		if c.String() != s || c.At < 0 || c.At > maxCursorTime || !validID(c.ID) {
			t.Fatalf("parseCursor(%q) = %+v", s, c)
		}
	})
}

// FuzzStagedValue: a staged JSON value either fails or has a canonical text that reads back to
// the same canonical text, for every column type.
func FuzzStagedValue(f *testing.F) {
	for _, s := range []string{`"2024-02-29"`, `"2024-03-05 08:09:10"`, `null`, `"1"`, `["a"]`, `12.5`, `""`, `{}`, `"-0"`, `"1e400"`} {
		f.Add(s)
	}
	types := []string{"String", "Date", "DateTime", "UInt8", "UInt64", "Int64", "Float64", "Nullable(String)",
		"Nullable(Date)", "Nullable(DateTime)", "Nullable(Int64)", "Nullable(Float64)", "Array(String)"}
	f.Fuzz(func(t *testing.T, raw string) {
		sv, err := decodeStaged(json.RawMessage(raw))
		if err != nil {
			return
		}
		for _, typ := range types {
			c, err := newColumn("c", typ)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.canonical(sv)
			if err != nil || p == nil {
				continue
			}
			again := stagedValue{str: *p}
			if c.array {
				var l []string
				if err := json.Unmarshal([]byte(*p), &l); err != nil {
					t.Fatalf("%s: canonical %q is not a JSON list: %v", typ, *p, err)
				}
				again = stagedValue{list: l, isArr: true}
			}
			q, err := c.canonical(again)
			if err != nil || q == nil || *q != *p {
				t.Fatalf("%s: %s → %q → %v (%v)", typ, raw, *p, q, err)
			}
		}
	})
}
