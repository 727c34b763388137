package cleaning

import "strings"

// MaskIDCard shows the 6-digit address code and the last 4 characters of a resident ID:
// 510104********1234.
func MaskIDCard(s string) string { return mask(s, 6, 4) }

// MaskMobile shows the first 3 and the last 4 digits of a mobile number: 138****5678.
func MaskMobile(s string) string { return mask(s, 3, 4) }

// MaskName shows the first character of a name: 张**. A one-character name is one star.
func MaskName(s string) string { return mask(s, 1, 0) }

// mask keeps head and tail characters of s and stars the rest; a value too short to keep both
// with at least one star is all stars.
func mask(s string, head, tail int) string {
	if isASCII(s) { // IDs and phone numbers: one allocation
		if len(s) <= head+tail {
			return stars(len(s))
		}
		var b strings.Builder
		b.Grow(len(s))
		b.WriteString(s[:head])
		for range len(s) - head - tail {
			b.WriteByte('*')
		}
		b.WriteString(s[len(s)-tail:])
		return b.String()
	}
	r := []rune(s)
	if len(r) <= head+tail {
		return stars(len(r))
	}
	return string(r[:head]) + stars(len(r)-head-tail) + string(r[len(r)-tail:])
}

func stars(n int) string { return strings.Repeat("*", n) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
