package validate

import "strings"

// usccChars is the GB 32100-2015 character set: digits and upper-case letters without I, O, S, V, Z.
// A character's value is its index.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights 3^i mod 31 of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCC checks a unified social credit code (统一社会信用代码, GB 32100-2015) and returns it
// upper-case: 18 characters from the code's character set (no I, O, S, V, Z); characters 3–8 are
// the registering authority's 6-digit address code; the 18th is the MOD 31 check character
// (31 − Σ value×weight mod 31, where 31 counts as 0). Spaces and full-width characters are folded
// first. The embedded organisation code (characters 9–17) is not checked against GB 11714: its check
// digit is not reliable for codes issued to sole proprietors.
func USCC(s string) (string, error) {
	s, err := compact(s)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", errorf(KindEmpty, "empty unified social credit code")
	}
	s = strings.ToUpper(s)
	if len(s) != 18 {
		return "", errorf(KindLength, "unified social credit code: %d characters, want 18", len(s))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccChars, s[i])
		if v < 0 {
			return "", errorf(KindCharset, "unified social credit code: character %d (%q) is not allowed", i+1, s[i])
		}
		sum += v * usccWeights[i]
	}
	if i := nonDigit(s[2:8]); i >= 0 {
		return "", errorf(KindCharset, "unified social credit code: address code %q is not 6 digits", s[2:8])
	}
	want := usccChars[(31-sum%31)%31]
	if s[17] != want {
		if strings.IndexByte(usccChars, s[17]) < 0 {
			return "", errorf(KindCharset, "unified social credit code: check character %q is not allowed", s[17])
		}
		return "", errorf(KindChecksum, "unified social credit code: check character is %c, want %c", s[17], want)
	}
	return s, nil
}
