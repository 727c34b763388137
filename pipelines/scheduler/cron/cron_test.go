package cron

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		spec, field, reason string
	}{
		{"", "", "0 fields"},
		{"* * * *", "", "4 fields"},
		{"* * * * * *", "", "6 fields"},
		{"60 * * * *", "minute", "60 is out of range 0-59"},
		{"* 24 * * *", "hour", "24 is out of range 0-23"},
		{"* * 0 * *", "day-of-month", "0 is out of range 1-31"},
		{"* * * 13 * ", "month", "13 is out of range 1-12"},
		{"* * * * 8", "day-of-week", "8 is out of range 0-7"},
		{"5-1 * * * *", "minute", "runs backwards"},
		{"*/0 * * * *", "minute", "step \"0\""},
		{"*/x * * * *", "minute", "step \"x\""},
		{"*/60 * * * *", "minute", "larger than"},
		{"1,,2 * * * *", "minute", "empty list element"},
		{"a * * * *", "minute", "not a number"},
		{"-1 * * * *", "minute", "not a number"},
		{"+1 * * * *", "minute", "not a number"},
		{"* * * foo *", "month", "neither a number nor a name"},
		{"* * * * funday", "day-of-week", "neither a number nor a name"},
		{"0 0 30 2 *", "day-of-month", "never fire"},
		{"0 0 31 apr,jun,sep,nov *", "day-of-month", "never fire"},
		{"@reboot", "", "unknown macro"},
		{strings.Repeat("1,", 300) + "1 * * * *", "", "longer than"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := Parse(tc.spec)
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) = %v, want an *Error matching ErrSyntax", tc.spec, err)
			}
			if ce.Field != tc.field || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Parse(%q) = %q (field %q), want field %q and %q", tc.spec, err, ce.Field, tc.field, tc.reason)
			}
		})
	}
}

func TestNext(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec, from string
		want       []string
	}{
		{"* * * * *", "2024-05-01 10:00", []string{"2024-05-01 10:01", "2024-05-01 10:02"}},
		{"30 0 * * *", "2024-05-01 00:30", []string{"2024-05-02 00:30", "2024-05-03 00:30"}},
		{"30 0 * * *", "2024-05-01 00:29", []string{"2024-05-01 00:30"}},
		{"@daily", "2024-12-31 23:59", []string{"2025-01-01 00:00"}},
		{"@hourly", "2024-05-01 10:59", []string{"2024-05-01 11:00", "2024-05-01 12:00"}},
		{"*/15 9-10 * * *", "2024-05-01 09:50", []string{"2024-05-01 10:00", "2024-05-01 10:15", "2024-05-01 10:30", "2024-05-01 10:45", "2024-05-02 09:00"}},
		{"0 8 * * mon-fri", "2024-05-03 09:00", []string{"2024-05-06 08:00", "2024-05-07 08:00"}}, // Fri → Mon
		{"0 0 * * 7", "2024-05-01 00:00", []string{"2024-05-05 00:00"}},                           // 7 is Sunday
		{"0 0 * * 5-7", "2024-05-03 01:00", []string{"2024-05-04 00:00", "2024-05-05 00:00", "2024-05-10 00:00"}},
		{"0 0 1 JAN,jul *", "2024-05-01 00:00", []string{"2024-07-01 00:00", "2025-01-01 00:00"}},
		{"0 0 29 2 *", "2024-03-01 00:00", []string{"2028-02-29 00:00"}},
		{"0 0 13 * fri", "2024-09-10 00:00", []string{"2024-09-13 00:00", "2024-09-20 00:00"}}, // both restricted: OR
		{"0 0 */10 * mon", "2024-05-01 00:00", []string{"2024-07-01 00:00"}},                   // dom starts with *: AND (1, 11, 21, 31 and a Monday)
		{"5/20 * * * *", "2024-05-01 10:00", []string{"2024-05-01 10:05", "2024-05-01 10:25", "2024-05-01 10:45", "2024-05-01 11:05"}},
		{"0 12 * * 1/2", "2024-05-01 13:00", []string{"2024-05-03 12:00", "2024-05-06 12:00"}}, // Mon, Wed, Fri
		{"0,30 0 1-3/2 * *", "2024-05-01 00:00", []string{"2024-05-01 00:30", "2024-05-03 00:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.spec+"@"+tc.from, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			cur := at(tc.from)
			for _, w := range tc.want {
				cur = s.Next(cur)
				if !cur.Equal(at(w)) {
					t.Fatalf("next = %s, want %s", cur.Format("2006-01-02 15:04 Mon"), w)
				}
				if !s.Matches(cur) {
					t.Errorf("Matches(%s) = false for a firing", cur)
				}
			}
		})
	}
}

// TestNextDST: a wall time skipped by a daylight-saving gap is no firing; the zone's other
// days fire at their wall time.
func TestNextDST(t *testing.T) {
	ny := mustZone("America/New_York")
	s := MustParse("30 2 * * *")
	got := s.Between(time.Date(2024, 3, 9, 12, 0, 0, 0, ny), time.Date(2024, 3, 12, 0, 0, 0, 0, ny), 0)
	// 10 March 2024 02:30 does not exist in New York (clocks jump from 02:00 to 03:00).
	want := []time.Time{time.Date(2024, 3, 11, 2, 30, 0, 0, ny)}
	if len(got) != len(want) || !got[0].Equal(want[0]) {
		t.Fatalf("firings %v, want %v", got, want)
	}
}

// TestNextAgainstBruteForce compares Next with a minute-by-minute scan over random expressions.
func TestNextAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(lo, hi int) string {
		switch rng.IntN(5) {
		case 0:
			return "*"
		case 1:
			return "*/" + itoa(1+rng.IntN(hi/2+1))
		case 2:
			a := lo + rng.IntN(hi-lo+1)
			b := a + rng.IntN(hi-a+1)
			return itoa(a) + "-" + itoa(b)
		case 3:
			return itoa(lo+rng.IntN(hi-lo+1)) + "," + itoa(lo+rng.IntN(hi-lo+1))
		default:
			return itoa(lo + rng.IntN(hi-lo+1))
		}
	}
	start := time.Date(2024, 2, 27, 22, 17, 30, 0, shanghai)
	for i := 0; i < 200; i++ {
		spec := strings.Join([]string{pick(0, 59), pick(0, 23), pick(1, 31), "*", pick(0, 7)}, " ")
		s, err := Parse(spec)
		if err != nil {
			continue // e.g. a day that no month has
		}
		next := s.Next(start)
		want := time.Time{}
		for m := start.Truncate(time.Minute).Add(time.Minute); m.Before(start.AddDate(0, 3, 0)); m = m.Add(time.Minute) {
			if s.Matches(m) {
				want = m
				break
			}
		}
		if !want.IsZero() && !next.Equal(want) {
			t.Errorf("%q: Next(%s) = %s, brute force %s", spec, start, next, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestBetweenLimit(t *testing.T) {
	s := MustParse("0 * * * *")
	from := time.Date(2024, 5, 1, 0, 0, 0, 0, shanghai)
	if got := s.Between(from, from.Add(24*time.Hour), 0); len(got) != 24 {
		t.Errorf("hourly over a day: %d firings, want 24 (the end is included, the start not)", len(got))
	}
	if got := s.Between(from, from.Add(24*time.Hour), 5); len(got) != 5 {
		t.Errorf("limit 5: %d firings", len(got))
	}
}

func TestMacroString(t *testing.T) {
	for spec, want := range map[string]string{"@DAILY": "@daily", "  0   0 * *  *  ": "0 0 * * *"} {
		if got := MustParse(spec).String(); got != want {
			t.Errorf("String() of %q = %q, want %q", spec, got, want)
		}
	}
}
