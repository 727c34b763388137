package community

import (
	"fmt"
	"strings"
)

// usccChars is the GB 32100-2015 character set; a character's value is its index.
const usccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights 3^i mod 31 of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccCheck returns the check character of the first 17 characters of a unified social credit
// code (31 − Σ value×weight mod 31, 31 counting as 0).
func usccCheck(s string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccChars, s[i]) * usccWeights[i]
	}
	return usccChars[(31-sum%31)%31]
}

// orgCodeWeights are the GB 11714 weights of an organisation code's 8 body characters.
var orgCodeWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// orgCode returns a 9-character organisation code (GB 11714): 8 digits and the check character
// (11 − Σ digit×weight mod 11; 10 is X, 11 is 0).
func orgCode(body int) string {
	b := []byte(fmt.Sprintf("%08d", body%100_000_000))
	sum := 0
	for i, c := range b {
		sum += int(c-'0') * orgCodeWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		b = append(b, 'X')
	case 11:
		b = append(b, '0')
	default:
		b = append(b, byte('0'+c))
	}
	return string(b)
}

// newUSCC builds a unified social credit code (GB 32100): registering authority and type (e.g.
// "91" a company registered by market regulation, "92" a sole proprietor, "52" a private
// non-enterprise unit, "12" a public institution), the 6-digit address code of the district, the
// organisation code of serial n (a bijection of n mod 10^8, so serials give distinct codes) and
// the check character.
func newUSCC(dept, district string, n int) string {
	body := (n*7_919_113 + 1_234_567) % 100_000_000 // 7919113 is coprime to 10^8
	s := dept + district + orgCode(body)
	return s + string(usccCheck(s))
}

// withBadUSCC spoils a USCC's check character (KindUSCCCheck, variant 0) or puts a letter the
// character set lacks into it (variant 1: O for 0, I for 1 …).
func withBadUSCC(s string, variant, pick int) (string, string) {
	if variant == 1 {
		for i := 8; i < 17; i++ {
			if c, ok := map[byte]byte{'0': 'O', '1': 'I', '5': 'S', '2': 'Z'}[s[i]]; ok {
				return s[:i] + string(c) + s[i+1:], "letter outside the character set"
			}
		}
	}
	want := s[17]
	for k := 0; ; k++ {
		if c := usccChars[(pick+k)%len(usccChars)]; c != want {
			return s[:17] + string(c), "wrong check character"
		}
	}
}
