package validate

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// Each fuzz target checks the validator's contract: no panic; on success the value is normalised
// (validating it again gives the same value) and well-formed; on failure the error has a Kind.

func checkErr(t *testing.T, in string, err error) {
	t.Helper()
	if KindOf(err) == "" {
		t.Fatalf("%q: error without a kind: %v", in, err)
	}
}

func FuzzResidentID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "130503670401001", "110105194912310021",
		"１１０１０５１９４９１２３１００２Ｘ", "51010419900230123X", "", "X", "933000197507010017", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := ParseResidentID(in, asOf)
		if err != nil {
			checkErr(t, in, err)
			return
		}
		if len(id.Number) != 18 || id.Number[6:10]+"-"+id.Number[10:12]+"-"+id.Number[12:14] != id.BirthDate {
			t.Fatalf("%q: %+v", in, id)
		}
		again, err := ParseResidentID(id.Number, asOf)
		if err != nil || again.Number != id.Number || again.Upgraded {
			t.Fatalf("%q → %+v → %+v, %v", in, id, again, err)
		}
	})
}

func FuzzMobile(f *testing.F) {
	for _, s := range []string{"13800138000", "+86 138 0013 8000", "0086-13800138000", "8613800138000",
		"１３８００１３８０００", "028-85551234", "+", "", "(((", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Mobile(in)
		if err != nil {
			checkErr(t, in, err)
			return
		}
		if len(got) != 11 || nonDigit(got) >= 0 || got[0] != '1' || got[1] < '3' {
			t.Fatalf("%q → %q", in, got)
		}
		if again, err := Mobile(got); err != nil || again != got {
			t.Fatalf("%q → %q → %q, %v", in, got, again, err)
		}
	})
}

func FuzzUSCC(f *testing.F) {
	for _, s := range []string{"91350100M000100Y43", "914403001922038216", "91330100716105852F", "91350100m000100y43",
		"91350100M000100Y42", "91350100I000100Y43", "", "ｉ", "\xc0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := USCC(in)
		if err != nil {
			checkErr(t, in, err)
			return
		}
		if len(got) != 18 || strings.Trim(got, usccChars) != "" {
			t.Fatalf("%q → %q", in, got)
		}
		if again, err := USCC(got); err != nil || again != got {
			t.Fatalf("%q → %q → %q, %v", in, got, again, err)
		}
	})
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"2024-03-05", "2024/3/5", "20240305", "2024年3月5日", "２０２４年３月５日", "2024-03-05 00:00:00",
		"2024-03-05T08:30:00+08:00", "2024-02-30", "45356", "", "年月日", "2024年"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Date(in)
		if err != nil {
			checkErr(t, in, err)
		} else if again, err := Date(got); err != nil || again != got || len(got) != 10 {
			t.Fatalf("Date: %q → %q → %q, %v", in, got, again, err)
		}
		dt, err := DateTime(in)
		if err != nil {
			checkErr(t, in, err)
		} else if again, err := DateTime(dt); err != nil || again != dt || len(dt) != 19 {
			t.Fatalf("DateTime: %q → %q → %q, %v", in, dt, again, err)
		}
	})
}

func FuzzRegion(f *testing.F) {
	rs, err := LoadRegions()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"510104000000", "510100000000", "411002000000", "510104", "１１０１０１０００００", "", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r, err := rs.Lookup(in)
		if err != nil {
			checkErr(t, in, err)
			return
		}
		if r.City == "" || !strings.HasPrefix(r.Code, r.City[:4]) {
			t.Fatalf("%q → %+v", in, r)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"plain", "  a  b ", "锦江区\u3000春熙路　１２号", "a\x00b", "\ufeff\u200b", "a\r\n\r\n\r\nb", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for name, fn := range map[string]func(string) (string, error){"Text": Text, "MultiLine": MultiLine} {
			got, err := fn(in)
			if err != nil {
				if utf8.ValidString(in) {
					t.Fatalf("%s(%q): %v", name, in, err)
				}
				checkErr(t, in, err)
				continue
			}
			if again, _ := fn(got); again != got {
				t.Fatalf("%s not idempotent: %q → %q → %q", name, in, got, again)
			}
			if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
				t.Fatalf("%s(%q) = %q", name, in, got)
			}
		}
		esc := EscapeControl(in)
		if !utf8.ValidString(esc) {
			t.Fatalf("EscapeControl(%q) = %q: invalid UTF-8", in, esc)
		}
	})
}

// FuzzShortcuts holds the shortcuts for values that are already normal (Text, MultiLine, Date,
// DateTime return them without work) to the full paths: same value, same error.
func FuzzShortcuts(f *testing.F) {
	for _, s := range []string{"plain", "王小明", "王 小明", "王  小明", " 王", "王 ", "锦江区春熙路１２号", "a\u00a0b", "a\u200bb",
		"\ufffd", "\xff", "a\nb", "a\u2028b", "Ａ", "，（）", "", " ", "2024-03-05", "2024-02-30", "1799-12-31", "2199-12-31",
		"2024-03-05 08:30:00", "2024-03-05 24:00:00", "2024-03-05 23:59:60", "2024-03-05T08:30:00", "2024-3-5 8:30"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, c := range []struct {
			name      string
			fast, ref func(string) (string, error)
		}{
			{"Text", Text, func(s string) (string, error) { return cleanFull(s, false) }},
			{"MultiLine", MultiLine, func(s string) (string, error) { return cleanFull(s, true) }},
			{"Date", Date, dateFull},
			{"DateTime", DateTime, dateTimeFull},
		} {
			got, err := c.fast(in)
			want, werr := c.ref(in)
			if got != want || fmt.Sprint(err) != fmt.Sprint(werr) || KindOf(err) != KindOf(werr) {
				t.Fatalf("%s(%q) = %q, %v; want %q, %v", c.name, in, got, err, want, werr)
			}
		}
	})
}
