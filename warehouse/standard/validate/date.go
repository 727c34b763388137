package validate

import (
	"strings"
	"time"
)

// ChinaTime is China Standard Time (UTC+8, no daylight saving), the zone of every normalised
// date-time. It is a fixed zone so results do not depend on the machine's tz database.
var ChinaTime = time.FixedZone("CST", 8*3600)

const (
	minYear = 1800
	maxYear = 2199
)

// Date checks a calendar date and returns it as ISO "YYYY-MM-DD". Accepted layouts, after folding
// full-width digits and trimming:
//
//	2024-03-05  2024-3-5  2024/03/05  2024/3/5  2024.03.05  20240305  2024年3月5日  2024年03月05
//
// optionally followed by a midnight time ("2024-03-05 00:00:00", as spreadsheets export dates). The
// year must be 1800–2199 and the date must exist. Not accepted: two-digit years, day-first or
// month-first orders (03/05/2024 is ambiguous), and spreadsheet serial numbers (45356), which look
// like ordinary integers and are the exporting tool's business to render.
func Date(s string) (string, error) {
	if isDate(s) {
		return s, nil
	}
	return dateFull(s)
}

// dateFull is Date without the shortcut for a date already normal.
func dateFull(s string) (string, error) {
	d, rest, err := parseDate(s)
	if err != nil {
		return "", err
	}
	if rest != "" {
		h, m, sec, _, hasZone, err := parseClock(rest)
		if err != nil || h != 0 || m != 0 || sec != 0 || hasZone {
			return "", errorf(KindDate, "date %q: unexpected %q after the date", s, rest)
		}
	}
	return d.Format(time.DateOnly), nil
}

// DateTime checks a date and time and returns it as "YYYY-MM-DD HH:MM:SS" in China Standard Time
// (the ClickHouse DateTime text form). The date part takes any layout Date accepts; it is followed
// by a space or "T" and "H:MM", "HH:MM:SS" or "HH:MM:SS.fff" (fractions are truncated), and
// optionally a zone "Z", "+08:00", "+0800" or "+08", which is converted to UTC+8. Without a zone the
// time is taken to be China time. A date alone means midnight.
func DateTime(s string) (string, error) {
	if len(s) == len(time.DateTime) && s[10] == ' ' && isDate(s[:10]) && isClock(s[11:]) {
		return s, nil // already "YYYY-MM-DD HH:MM:SS", China time
	}
	return dateTimeFull(s)
}

// dateTimeFull is DateTime without the shortcut for a date-time already normal.
func dateTimeFull(s string) (string, error) {
	d, rest, err := parseDate(s)
	if err != nil {
		return "", err
	}
	if rest == "" {
		return d.Format(time.DateTime), nil
	}
	h, m, sec, off, hasZone, err := parseClock(rest)
	if err != nil {
		return "", errorf(KindDate, "date-time %q: %v", s, err)
	}
	y, mo, day := d.Date()
	if !hasZone {
		off = 8 * 3600
	}
	t := time.Date(y, mo, day, h, m, sec, 0, time.FixedZone("", off)).In(ChinaTime)
	if t.Year() < minYear || t.Year() > maxYear {
		return "", errorf(KindDate, "date-time %q: year %d is outside %d–%d", s, t.Year(), minYear, maxYear)
	}
	return t.Format(time.DateTime), nil
}

// isDate reports whether s is a date already in its normal form "YYYY-MM-DD", year in range:
// what Date returns it as.
func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || nonDigit(s[:4]) >= 0 || nonDigit(s[5:7]) >= 0 || nonDigit(s[8:]) >= 0 {
		return false
	}
	y, m, d := atoi(s[:4]), atoi(s[5:7]), atoi(s[8:])
	if y < minYear || y > maxYear {
		return false
	}
	_, ok := civil(y, m, d)
	return ok
}

// isClock reports whether s is a time "HH:MM:SS" in range.
func isClock(s string) bool {
	return len(s) == 8 && s[2] == ':' && s[5] == ':' && nonDigit(s[:2]) < 0 && nonDigit(s[3:5]) < 0 && nonDigit(s[6:]) < 0 &&
		atoi(s[:2]) <= 23 && atoi(s[3:5]) <= 59 && atoi(s[6:]) <= 59
}

// parseDate reads the date at the start of s and returns it with the trimmed rest.
func parseDate(in string) (time.Time, string, error) {
	s, err := compactEdges(in)
	if err != nil {
		return time.Time{}, "", err
	}
	if s == "" {
		return time.Time{}, "", errorf(KindEmpty, "empty date")
	}
	var y, m, d int
	var ok bool
	if strings.Contains(s, "年") {
		y, m, d, s, ok = chineseDate(s)
	} else {
		y, m, d, s, ok = numericDate(s)
	}
	if !ok {
		return time.Time{}, "", errorf(KindDate, "date %q: want YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日", in)
	}
	if y < minYear || y > maxYear {
		return time.Time{}, "", errorf(KindDate, "date %q: year %d is outside %d–%d", in, y, minYear, maxYear)
	}
	t, ok := civil(y, m, d)
	if !ok {
		return time.Time{}, "", errorf(KindDate, "date %q: %04d-%02d-%02d does not exist", in, y, m, d)
	}
	return t, strings.TrimLeft(s, " T"), nil
}

// compactEdges cleans s as text (UTF-8, controls, whitespace), folds full-width digits and trims.
func compactEdges(s string) (string, error) {
	s, err := clean(s, false)
	if err != nil {
		return "", err
	}
	return FoldWidth(s), nil
}

func numericDate(s string) (y, m, d int, rest string, ok bool) {
	if len(s) < 8 || nonDigit(s[:4]) >= 0 {
		return
	}
	y = atoi(s[:4])
	if nonDigit(s[4:8]) < 0 && (len(s) == 8 || nonDigit(s[8:9]) >= 0) {
		return y, atoi(s[4:6]), atoi(s[6:8]), s[8:], true
	}
	sep := s[4]
	if sep != '-' && sep != '/' && sep != '.' {
		return
	}
	var r string
	if m, r, ok = digits12(s[5:]); !ok || r == "" || r[0] != sep {
		return 0, 0, 0, "", false
	}
	if d, r, ok = digits12(r[1:]); !ok {
		return
	}
	return y, m, d, r, true
}

func chineseDate(s string) (y, m, d int, rest string, ok bool) {
	ys, r, found := strings.Cut(s, "年")
	if !found || len(ys) != 4 || nonDigit(ys) >= 0 {
		return
	}
	y = atoi(ys)
	if m, r, ok = digits12(r); !ok || !strings.HasPrefix(r, "月") {
		return 0, 0, 0, "", false
	}
	if d, r, ok = digits12(strings.TrimPrefix(r, "月")); !ok {
		return
	}
	if !strings.HasPrefix(r, "日") {
		r = strings.TrimPrefix(r, "号")
	} else {
		r = strings.TrimPrefix(r, "日")
	}
	return y, m, d, r, true
}

// digits12 reads one or two leading digits.
func digits12(s string) (int, string, bool) {
	n := 0
	for n < len(s) && n < 2 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 || (n < len(s) && s[n] >= '0' && s[n] <= '9') {
		return 0, s, false
	}
	return atoi(s[:n]), s[n:], true
}

type clockError string

func (e clockError) Error() string { return string(e) }

// parseClock reads "H:MM[:SS[.fff]][zone]" and the zone offset in seconds.
func parseClock(s string) (h, m, sec, off int, hasZone bool, err error) {
	var ok bool
	if h, s, ok = digits12(s); !ok || h > 23 || !strings.HasPrefix(s, ":") {
		return 0, 0, 0, 0, false, clockError("want a time HH:MM[:SS]")
	}
	if len(s) < 3 || nonDigit(s[1:3]) >= 0 {
		return 0, 0, 0, 0, false, clockError("want two digits of minutes")
	}
	m, s = atoi(s[1:3]), s[3:]
	if strings.HasPrefix(s, ":") {
		if len(s) < 3 || nonDigit(s[1:3]) >= 0 {
			return 0, 0, 0, 0, false, clockError("want two digits of seconds")
		}
		sec, s = atoi(s[1:3]), s[3:]
		if strings.HasPrefix(s, ".") || strings.HasPrefix(s, ",") {
			i := 1
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			if i == 1 {
				return 0, 0, 0, 0, false, clockError("want digits after the decimal point")
			}
			s = s[i:]
		}
	}
	if m > 59 || sec > 59 {
		return 0, 0, 0, 0, false, clockError("minutes or seconds out of range")
	}
	s = strings.TrimLeft(s, " ")
	switch {
	case s == "":
		return h, m, sec, 0, false, nil
	case s == "Z":
		return h, m, sec, 0, true, nil
	case s[0] == '+' || s[0] == '-':
		z := strings.Replace(s[1:], ":", "", 1)
		if (len(z) != 2 && len(z) != 4) || nonDigit(z) >= 0 {
			return 0, 0, 0, 0, false, clockError("want a zone Z, ±HH:MM, ±HHMM or ±HH")
		}
		zh, zm := atoi(z[:2]), 0
		if len(z) == 4 {
			zm = atoi(z[2:])
		}
		if zh > 14 || zm > 59 {
			return 0, 0, 0, 0, false, clockError("zone offset out of range")
		}
		off = zh*3600 + zm*60
		if s[0] == '-' {
			off = -off
		}
		return h, m, sec, off, true, nil
	}
	return 0, 0, 0, 0, false, clockError("unexpected " + s)
}
