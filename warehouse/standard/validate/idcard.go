package validate

import (
	"time"
)

// ResidentID is a checked citizen identity number (公民身份号码, GB 11643-1999).
type ResidentID struct {
	Number    string // 18 characters, check character 'X' upper-case
	Region    string // first 6 digits: address code where the number was issued (not the residence)
	BirthDate string // YYYY-MM-DD
	Gender    string // GB/T 2261.1: "1" male (odd sequence digit), "2" female (even)
	Upgraded  bool   // the input was a 15-digit legacy number, upgraded to 18 digits
}

// idWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of the first 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheck maps the weighted sum mod 11 to the check character.
const idCheck = "10X98765432"

// provinces are the valid first two digits of an address code (GB/T 2260), including 71 Taiwan,
// 81 Hong Kong, 82 Macao and 83 (residence permits for Taiwan residents).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

// minBirth is the earliest birth date accepted.
var minBirth = time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseResidentID checks an 18-digit resident ID number — 6-digit address code with a known
// province, birth date YYYYMMDD that exists, is not before 1890 and not after asOf, 3-digit
// sequence, ISO 7064 MOD 11-2 check character (0–9 or X, lower-case x accepted) — and derives birth
// date and gender. A 15-digit legacy number (YYMMDD birth date in the 1900s, no check digit) is
// accepted and upgraded to 18 digits. Spaces and full-width digits are removed first. Numbers
// starting with 9 (the 2023 foreigners' permanent residence ID, same layout and check) skip the
// province check.
func ParseResidentID(s string, asOf time.Time) (ResidentID, error) {
	s, err := compact(s)
	if err != nil {
		return ResidentID{}, err
	}
	var id ResidentID
	switch len(s) {
	case 0:
		return id, errorf(KindEmpty, "empty resident ID")
	case 15:
		if i := nonDigit(s); i >= 0 {
			return id, errorf(KindCharset, "resident ID: character %d (%q) is not a digit", i+1, s[i])
		}
		var b [18]byte
		copy(b[:6], s[:6])
		b[6], b[7] = '1', '9'
		copy(b[8:17], s[6:15])
		b[17] = idCheck[idSum(b[:17])]
		id.Number, id.Upgraded = string(b[:]), true
	case 18:
		if i := nonDigit(s[:17]); i >= 0 {
			return id, errorf(KindCharset, "resident ID: character %d (%q) is not a digit", i+1, s[i])
		}
		c := s[17]
		if c == 'x' {
			c = 'X'
			s = s[:17] + "X"
		}
		if (c < '0' || c > '9') && c != 'X' {
			return id, errorf(KindCharset, "resident ID: check character %q is not 0-9 or X", s[17])
		}
		if want := idCheck[idSum([]byte(s[:17]))]; want != c {
			return id, errorf(KindChecksum, "resident ID: check character is %c, want %c", c, want)
		}
		id.Number = s
	default:
		return id, errorf(KindLength, "resident ID: %d characters, want 18 (or a 15-digit legacy number)", len(s))
	}
	n := id.Number
	if n[0] != '9' && !provinces[n[:2]] {
		return ResidentID{}, errorf(KindPrefix, "resident ID: %q is not a province code", n[:2])
	}
	birth, ok := ymd(n[6:14])
	if !ok {
		return ResidentID{}, errorf(KindDate, "resident ID: birth date %s does not exist", n[6:14])
	}
	if birth.Before(minBirth) {
		return ResidentID{}, errorf(KindDate, "resident ID: birth date %s is before 1890", n[6:14])
	}
	if y, m, d := asOf.Date(); birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return ResidentID{}, errorf(KindFuture, "resident ID: birth date %s is in the future", n[6:14])
	}
	id.Region = n[:6]
	id.BirthDate = n[6:10] + "-" + n[10:12] + "-" + n[12:14]
	if (n[16]-'0')%2 == 1 {
		id.Gender = "1"
	} else {
		id.Gender = "2"
	}
	return id, nil
}

// idSum returns the weighted digit sum of 17 ASCII digits mod 11.
func idSum(b []byte) int {
	sum := 0
	for i, c := range b {
		sum += int(c-'0') * idWeights[i]
	}
	return sum % 11
}

// ymd parses 8 ASCII digits as a calendar date, rejecting dates that do not exist.
func ymd(s string) (time.Time, bool) {
	if len(s) != 8 || nonDigit(s) >= 0 {
		return time.Time{}, false
	}
	y := atoi(s[:4])
	m := atoi(s[4:6])
	d := atoi(s[6:8])
	return civil(y, m, d)
}

// civil returns the date y-m-d (UTC midnight) if it exists.
func civil(y, m, d int) (time.Time, bool) {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

func nonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return -1
}

// atoi converts ASCII digits (already checked) to an int.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
