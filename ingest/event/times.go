package event

import (
	"encoding/json"
	"time"
)

// The times of the hot path, read and written without the time package's general code: an event
// carries three (timestamp, sentAt, receivedAt) and SDKs send one form, UTC with a fraction.

// fastTime reads the form SDKs send, "2024-05-01T08:30:00.123Z" (UTC, 0–9 fraction digits), as
// time.Parse(time.RFC3339Nano) does; ok is false for anything else (then use parseTime).
// Every byte it takes is a digit or a separator, so the literal has no escape and is ASCII.
func fastTime(raw json.RawMessage) (time.Time, bool) {
	if len(raw) < 22 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return time.Time{}, false
	}
	s := raw[1 : len(raw)-1]
	if s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, month, day := digits(s[0:4]), digits(s[5:7]), digits(s[8:10])
	hour, minute, sec := digits(s[11:13]), digits(s[14:16]), digits(s[17:19])
	nsec := 0
	switch frac := s[19 : len(s)-1]; {
	case len(frac) == 0:
	case len(frac) >= 2 && len(frac) <= 10 && frac[0] == '.':
		if nsec = digits(frac[1:]); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	default:
		return time.Time{}, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	unix := daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true // what time.Date(…, time.UTC) gives
}

// digits is the number the ASCII digits of b spell, -1 when b holds anything else.
func digits(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to the given date of the proleptic
// Gregorian calendar (year ≥ 0), after Howard Hinnant's days_from_civil.
func daysFromCivil(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 {
		era = (year - 399) / 400
	}
	yoe := year - era*400
	doy := (153*((month+9)%12)+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(days int64) (year, month, day int) {
	days += 719468
	era := days / 146097
	if days < 0 {
		era = (days - 146096) / 146097
	}
	doe := int(days - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	year = yoe + int(era)*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with nanoseconds, quoted).
func appendTime(b []byte, t time.Time) []byte { return appendTimeDay(b, t, nil) }

// dayMemo is the last date appendTimeDay wrote: the times of a request's events nearly all
// fall on one day.
type dayMemo struct {
	days int64
	date [10]byte // YYYY-MM-DD
	set  bool
}

// appendTimeDay is appendTime remembering the date in m (nil: none).
func appendTimeDay(b []byte, t time.Time, m *dayMemo) []byte {
	const minUnix, maxUnix = -62135596800, 253402300799 // 0001-01-01 and 9999-12-31T23:59:59, UTC
	unix := t.Unix()
	if t.Location() != time.UTC || unix < minUnix || unix > maxUnix {
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	days, secs := unix/86400, int(unix%86400)
	if secs < 0 {
		days, secs = days-1, secs+86400
	}
	b = append(b, '"')
	if m != nil && m.set && m.days == days {
		b = append(b, m.date[:]...)
	} else {
		year, month, day := civilFromDays(days)
		l := len(b)
		b = append2(append2(b, year/100), year%100)
		b = append2(append(b, '-'), month)
		b = append2(append(b, '-'), day)
		if m != nil {
			m.days, m.set = days, true
			copy(m.date[:], b[l:])
		}
	}
	b = append2(append(b, 'T'), secs/3600)
	b = append2(append(b, ':'), secs/60%60)
	b = append2(append(b, ':'), secs%60)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, 'Z', '"')
}

// append2 appends n (0–99) as two digits.
func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
