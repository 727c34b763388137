package cron

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse: any input either fails with an *Error, or parses to a schedule whose String parses
// again to the same firings, and whose next firing is later than the start and matches.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"* * * * *", "30 0 * * *", "*/15 9-17 * * mon-fri", "0 0 1 jan,jul *", "0 0 29 2 *",
		"0 0 13 * fri", "5/20 * * * 1/2", "0,30 0 1-3/2 * *", "@daily", "@hourly", "@weekly",
		"0 0 30 2 *", "60 * * * *", "* * * *", "*/0 * * * *", "1,,2 * * * *", "@reboot", "",
		"\t0\t0 * * 7 ", "0 0 * * 5-7", "0-59/61 * * * *", "0 0 31 * *",
	} {
		f.Add(seed)
	}
	start := time.Date(2024, 2, 27, 22, 17, 30, 0, shanghai)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %v is not an *Error", spec, err)
			}
			return
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", spec, s.String(), err)
		}
		if *again != *s {
			t.Fatalf("Parse(%q) and Parse(String()) differ: %+v vs %+v", spec, s, again)
		}
		next := s.Next(start)
		if next.IsZero() {
			t.Fatalf("%q never fires after %s", spec, start)
		}
		if !next.After(start) || !s.Matches(next) || next.Second() != 0 {
			t.Fatalf("%q: Next(%s) = %s: not later, not a match, or not on a minute", spec, start, next)
		}
	})
}
