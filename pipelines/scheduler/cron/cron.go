package cron

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// MaxSpecLen bounds the length of an expression: longer input is rejected before parsing.
const MaxSpecLen = 512

// ErrSyntax is matched (errors.Is) by every error Parse returns.
var ErrSyntax = errors.New("bad cron expression")

// Error is a parse error: the expression, the field it is in ("" for the whole expression) and
// the reason. It matches ErrSyntax.
type Error struct {
	Spec   string
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("cron %q: %s", e.Spec, e.Reason)
	}
	return fmt.Sprintf("cron %q: %s field: %s", e.Spec, e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrSyntax) true.
func (e *Error) Is(target error) bool { return target == ErrSyntax }

// Schedule is a parsed expression. The zero value matches nothing; use Parse.
type Schedule struct {
	spec                          string
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar              bool   // the field starts with '*' (Vixie cron's rule for OR-ing the day fields)
}

// field describes one of the five positions.
type field struct {
	name     string
	min, max int
	names    map[string]int
}

var (
	monthNames = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	dowNames = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	fields   = [5]field{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day-of-month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day-of-week", min: 0, max: 7, names: dowNames}, // 7 is Sunday too
	}
	macros = map[string]string{
		"@yearly":   "0 0 1 1 *",
		"@annually": "0 0 1 1 *",
		"@monthly":  "0 0 1 * *",
		"@weekly":   "0 0 * * 0",
		"@daily":    "0 0 * * *",
		"@midnight": "0 0 * * *",
		"@hourly":   "0 * * * *",
	}
)

// Parse parses a five-field expression or a macro. Errors name the field and the reason.
func Parse(spec string) (*Schedule, error) {
	if len(spec) > MaxSpecLen {
		return nil, &Error{Spec: spec[:32] + "…", Reason: fmt.Sprintf("longer than %d bytes", MaxSpecLen)}
	}
	text := strings.TrimSpace(spec)
	if strings.HasPrefix(text, "@") {
		m, ok := macros[strings.ToLower(text)]
		if !ok {
			return nil, &Error{Spec: spec, Reason: "unknown macro (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"}
		}
		s, err := Parse(m)
		if err != nil {
			return nil, err
		}
		s.spec = strings.ToLower(text)
		return s, nil
	}
	parts := strings.Fields(text)
	if len(parts) != 5 {
		return nil, &Error{Spec: spec, Reason: fmt.Sprintf("%d fields: want 5 (minute hour day-of-month month day-of-week)", len(parts))}
	}
	s := &Schedule{spec: strings.Join(parts, " ")}
	dst := [5]*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, p := range parts {
		set, err := parseField(p, fields[i])
		if err != nil {
			return nil, &Error{Spec: spec, Field: fields[i].name, Reason: fmt.Sprintf("%q: %s", p, err)}
		}
		*dst[i] = set
	}
	if s.dow&(1<<7) != 0 {
		s.dow = s.dow&^(1<<7) | 1
	}
	s.domStar, s.dowStar = parts[2][0] == '*', parts[4][0] == '*'
	if !s.domStar && s.dowStar && !s.someDayExists() {
		return nil, &Error{Spec: spec, Field: "day-of-month", Reason: "no month of the schedule has any of these days; it would never fire"}
	}
	return s, nil
}

// MustParse is Parse for expressions written in code; it panics on a bad one.
func MustParse(spec string) *Schedule {
	s, err := Parse(spec)
	if err != nil {
		panic(err)
	}
	return s
}

// String is the expression as parsed, with single spaces between fields (a macro stays a macro).
func (s *Schedule) String() string { return s.spec }

// parseField parses one comma-separated field into a bit set.
func parseField(text string, f field) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(text, ",") {
		bitsOf, err := parseItem(item, f)
		if err != nil {
			return 0, err
		}
		set |= bitsOf
	}
	return set, nil
}

// parseItem parses "*", "*/n", "a", "a-b", "a-b/n" or "a/n" (a through the maximum, every n).
func parseItem(item string, f field) (uint64, error) {
	if item == "" {
		return 0, errors.New("empty list element")
	}
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("step %q: want a whole number ≥ 1", stepText)
		}
		if n > f.max {
			return 0, fmt.Errorf("step %d: larger than the field's largest value %d", n, f.max)
		}
		step = n
	}
	lo, hi := f.min, f.max
	switch {
	case rng == "*":
		if f.max == 7 {
			hi = 6 // "*" in day-of-week is 0-6; 7 would repeat Sunday
		}
	default:
		a, b, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = value(a, f); err != nil {
			return 0, err
		}
		switch {
		case isRange:
			if hi, err = value(b, f); err != nil {
				return 0, err
			}
			if hi < lo {
				return 0, fmt.Errorf("range %d-%d runs backwards", lo, hi)
			}
		case hasStep:
			// a/n: from a to the end of the field (Saturday for day-of-week)
			if f.max == 7 {
				hi = 6
			}
		default:
			hi = lo
		}
	}
	var set uint64
	for v := lo; v <= hi; v += step {
		set |= 1 << uint(v)
	}
	return set, nil
}

// value parses a number or a name within f's range.
func value(text string, f field) (int, error) {
	if n, ok := f.names[strings.ToLower(text)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || text == "" || text[0] == '+' || text[0] == '-' {
		if f.names != nil {
			return 0, fmt.Errorf("%q is neither a number nor a name", text)
		}
		return 0, fmt.Errorf("%q is not a number", text)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// daysIn is the most days a month can have (February: 29).
var daysIn = [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// someDayExists reports whether some month of the schedule has some of its days of month.
func (s *Schedule) someDayExists() bool {
	for m := 1; m <= 12; m++ {
		if s.month&(1<<uint(m)) != 0 && s.dom&(1<<uint(daysIn[m]+1)-1) != 0 {
			return true
		}
	}
	return false
}

// dayMatches applies the day rules to a calendar date.
func (s *Schedule) dayMatches(year int, month time.Month, day int) bool {
	if s.month&(1<<uint(month)) == 0 {
		return false
	}
	domOK := s.dom&(1<<uint(day)) != 0
	dowOK := s.dow&(1<<uint(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Weekday())) != 0
	if s.domStar || s.dowStar {
		return domOK && dowOK
	}
	return domOK || dowOK
}

// Matches reports whether the schedule fires at t's minute, read on the wall clock of t's
// location.
func (s *Schedule) Matches(t time.Time) bool {
	y, mo, d := t.Date()
	return s.minute&(1<<uint(t.Minute())) != 0 && s.hour&(1<<uint(t.Hour())) != 0 && s.dayMatches(y, mo, d)
}

// searchDays bounds Next: every valid schedule fires within 8 years (29 February can be 8 years
// apart, around 2100).
const searchDays = 9 * 366

// Next returns the first firing strictly after t, on the wall clock of t's location (pass
// t.In(zone)). It returns the zero Time when there is none within nine years, which Parse
// makes impossible.
func (s *Schedule) Next(t time.Time) time.Time {
	loc := t.Location()
	y, mo, d := t.Date()
	day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC) // calendar arithmetic without the zone
	for i := 0; i < searchDays; i, day = i+1, day.AddDate(0, 0, 1) {
		y, mo, d := day.Date()
		if !s.dayMatches(y, mo, d) {
			continue
		}
		firstHour := 0
		if i == 0 {
			firstHour = max(t.Hour()-1, 0) // one hour of slack for a repeated (fall-back) hour
		}
		for h := firstHour; h < 24; h++ {
			if s.hour&(1<<uint(h)) == 0 {
				continue
			}
			for set := s.minute; set != 0; set &= set - 1 {
				mi := bits.TrailingZeros64(set)
				c := time.Date(y, mo, d, h, mi, 0, 0, loc)
				if c.Hour() != h || c.Minute() != mi || c.Day() != d {
					continue // the wall time does not exist in loc (daylight-saving gap)
				}
				if c.After(t) {
					return c
				}
			}
		}
	}
	return time.Time{}
}

// Between returns the firings in (after, until], in order, at most limit of them (limit ≤ 0:
// no limit), on the wall clock of after's location.
func (s *Schedule) Between(after, until time.Time, limit int) []time.Time {
	var out []time.Time
	for t := s.Next(after); !t.IsZero() && !t.After(until); t = s.Next(t) {
		out = append(out, t)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}
