package validate

import "strings"

// Mobile checks and normalises a mainland China mobile number to its 11 digits. Accepted noise:
// spaces (any width), dashes, dots and parentheses between digits, full-width digits, and the
// country code as "+86", "0086" or a bare "86" before 11 digits. The result must be 11 digits
// starting with 1 and a second digit 3–9. Landlines and other countries are rejected.
func Mobile(s string) (string, error) {
	s, err := compact(s)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "-.()") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case '-', '.', '(', ')':
				return -1
			}
			return r
		}, s)
	}
	switch {
	case s == "":
		return "", errorf(KindEmpty, "empty mobile number")
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	case len(s) == 13 && strings.HasPrefix(s, "86"):
		s = s[2:]
	case s[0] == '+':
		return "", errorf(KindPrefix, "mobile number: country code is not +86")
	}
	if i := nonDigit(s); i >= 0 {
		return "", errorf(KindCharset, "mobile number: %q is not a digit", s[i])
	}
	if len(s) != 11 {
		return "", errorf(KindLength, "mobile number: %d digits, want 11", len(s))
	}
	if s[0] != '1' || s[1] < '3' {
		return "", errorf(KindPrefix, "mobile number: prefix %s is not 13–19", s[:2])
	}
	return s, nil
}
