package community

import (
	"testing"
	"time"

	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

func TestResidentIDHelpers(t *testing.T) {
	asOf := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	birth := time.Date(1987, 2, 28, 0, 0, 0, 0, chinaTime)
	for _, tc := range []struct {
		name   string
		id     string
		kind   string // "" = valid
		gender string
	}{
		{"male", residentID("510104", birth, 17, true), "", "1"},
		{"female", residentID("510104", birth, 17, false), "", "2"},
		{"sequence wraps", residentID("500101", birth, 999, true), "", "1"},
		{"bad check", withBadCheck(residentID("510104", birth, 3, true), 0), validate.KindChecksum, ""},
		{"bad check, other pick", withBadCheck(residentID("510104", birth, 3, true), 7), validate.KindChecksum, ""},
		{"30 February", withBadBirthDate(residentID("510104", birth, 3, true), 0), validate.KindDate, ""},
		{"month 13", withBadBirthDate(residentID("510104", birth, 3, true), 1), validate.KindDate, ""},
		{"day 0", withBadBirthDate(residentID("510104", birth, 3, true), 2), validate.KindDate, ""},
		{"31 June", withBadBirthDate(residentID("510104", birth, 3, true), 3), validate.KindDate, ""},
		{"future", withBadBirthDate(residentID("510104", birth, 3, true), 4), validate.KindFuture, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := validate.ParseResidentID(tc.id, asOf)
			if got := validate.KindOf(err); got != tc.kind {
				t.Fatalf("%s: kind %q (%v), want %q", tc.id, got, err, tc.kind)
			}
			if tc.kind == "" && (id.Gender != tc.gender || id.BirthDate != "1987-02-28") {
				t.Fatalf("%s: gender %s birth %s", tc.id, id.Gender, id.BirthDate)
			}
		})
	}
}

func TestLegacy15(t *testing.T) {
	asOf := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		birth time.Time
		ok    bool
	}{
		{time.Date(1987, 2, 28, 0, 0, 0, 0, chinaTime), true},
		{time.Date(1900, 1, 1, 0, 0, 0, 0, chinaTime), true},
		{time.Date(2001, 5, 6, 0, 0, 0, 0, chinaTime), false},
	} {
		id := residentID("510104", tc.birth, 42, false)
		l := legacy15(id)
		if (l != "") != tc.ok {
			t.Fatalf("legacy15(%s) = %q", id, l)
		}
		if !tc.ok {
			continue
		}
		got, err := validate.ParseResidentID(l, asOf)
		if err != nil || got.Number != id || !got.Upgraded {
			t.Fatalf("%s upgrades to %+v (%v), want %s", l, got, err, id)
		}
	}
}

func TestIDAllocatorUnique(t *testing.T) {
	asOf := time.Date(2026, 3, 5, 12, 0, 0, 0, chinaTime)
	a := newIDAllocator(asOf, 1)
	seen := map[string]bool{}
	day := time.Date(1990, 6, 1, 0, 0, 0, 0, chinaTime)
	for _, tc := range []struct {
		region string
		birth  time.Time
		n      int
	}{
		{"510104", day, 1200}, // more than 500 of one day and gender: spills into the next days
		{"510105", day, 10},
		{"510104", day.AddDate(0, 0, 1), 10},
		{"500101", asOf.AddDate(-130, 0, 0), 3}, // before the counted span
	} {
		for i := 0; i < tc.n; i++ {
			for _, male := range []bool{true, false} {
				id := a.next(tc.region, tc.birth, male)
				if seen[id] {
					t.Fatalf("%s handed out twice", id)
				}
				seen[id] = true
				p, err := validate.ParseResidentID(id, asOf)
				if err != nil || (p.Gender == "1") != male || p.Region != tc.region {
					t.Fatalf("%s: %+v %v", id, p, err)
				}
			}
		}
	}
}

func TestUSCC(t *testing.T) {
	for _, tc := range []struct {
		name string
		code func() string
		kind string
	}{
		{"company", func() string { return newUSCC("91", "510104", 1) }, ""},
		{"sole proprietor", func() string { return newUSCC("92", "411002", 99_999_999) }, ""},
		{"public body", func() string { return newUSCC("12", "510112", 12345) }, ""},
		{"wrong check", func() string { s, _ := withBadUSCC(newUSCC("91", "510104", 7), 0, 3); return s }, validate.KindChecksum},
		{"bad letter", func() string { s, _ := withBadUSCC(newUSCC("91", "510104", 7), 1, 3); return s }, validate.KindCharset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := tc.code()
			_, err := validate.USCC(code)
			if got := validate.KindOf(err); got != tc.kind {
				t.Fatalf("%s: kind %q (%v), want %q", code, got, err, tc.kind)
			}
		})
	}
	seen := map[string]bool{}
	for n := 1; n <= 100_000; n++ {
		c := newUSCC("91", "510104", n)
		if seen[c] {
			t.Fatalf("serial %d repeats %s", n, c)
		}
		seen[c] = true
	}
}

func TestBadDates(t *testing.T) {
	for variant := 0; variant < 5; variant++ {
		for _, tc := range []struct {
			v        string
			datetime bool
		}{{"2024-03-05", false}, {"20240305", false}, {"2025-01-02 10:00:00", true}, {"2025-01-02T10:00:00+08:00", true}, {"", true}} {
			s, name := badDate(tc.v, tc.datetime, variant, 2026)
			check := validate.Date
			if tc.datetime {
				check = validate.DateTime
			}
			if _, err := check(s); validate.KindOf(err) != validate.KindDate {
				t.Errorf("%s (%s) of %q: %v, want a date error", s, name, tc.v, err)
			}
		}
	}
}
