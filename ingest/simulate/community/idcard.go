package community

import "time"

// idWeights are the ISO 7064 MOD 11-2 weights of the first 17 digits (GB 11643-1999).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheck maps the weighted sum mod 11 to the check character.
const idCheck = "10X98765432"

// checkChar returns the check character of the first 17 digits of b.
func checkChar(b []byte) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(b[i]-'0') * idWeights[i]
	}
	return idCheck[sum%11]
}

// residentID builds an 18-digit resident ID: 6-digit address code, birth date, 3-digit sequence
// (its last digit odd for men, even for women; seq is 0..499 and picks the pair) and check
// character.
func residentID(region string, birth time.Time, seq int, male bool) string {
	b := make([]byte, 18)
	copy(b, region[:6])
	copy(b[6:14], birth.Format("20060102"))
	n := (seq%500)*2 + 1
	if !male {
		n--
	}
	b[14] = byte('0' + n/100)
	b[15] = byte('0' + n/10%10)
	b[16] = byte('0' + n%10)
	b[17] = checkChar(b)
	return string(b)
}

// withBadCheck returns id with a wrong check character (KindIDChecksum).
func withBadCheck(id string, pick int) string {
	b := []byte(id)
	want := b[17]
	for k := 0; ; k++ {
		c := idCheck[(pick+k)%len(idCheck)]
		if c != want {
			b[17] = c
			return string(b)
		}
	}
}

// badBirthDates replace the birth date of an ID with one that does not exist or lies in the
// future (KindIDBirthDate); the check character is recomputed so only the date is wrong.
var badBirthDates = []func(y int) string{
	func(y int) string { return itoa4(y) + "0230" }, // 30 February
	func(y int) string { return itoa4(y) + "1301" }, // month 13
	func(y int) string { return itoa4(y) + "0400" }, // day 0
	func(y int) string { return itoa4(y) + "0631" }, // 31 June
	func(int) string { return "20990101" },          // in the future
}

func withBadBirthDate(id string, pick int) string {
	b := []byte(id)
	y := int(b[6]-'0')*1000 + int(b[7]-'0')*100 + int(b[8]-'0')*10 + int(b[9]-'0')
	copy(b[6:14], badBirthDates[pick%len(badBirthDates)](y))
	b[17] = checkChar(b)
	return string(b)
}

func itoa4(y int) string {
	return string([]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10)})
}

// legacy15 returns the 15-digit legacy form of an 18-digit ID of someone born in the 1900s
// (address code, YYMMDD, sequence; no check character), or "" for other birth years.
func legacy15(id string) string {
	if len(id) != 18 || id[6:8] != "19" {
		return ""
	}
	return id[:6] + id[8:17]
}

// idAllocator hands out resident IDs that are unique by construction: per address code, birth
// day and gender it counts the numbers given and derives the next sequence from the count, so it
// holds two bytes per (address code, day, gender) in use instead of every ID.
type idAllocator struct {
	base   time.Time // earliest birth day counted (day 0)
	seed   uint64
	counts map[string][]uint16 // address code → count per day*2+gender
}

// idDays is the span of birth days the allocator counts: 130 years.
const idDays = 130 * 366

func newIDAllocator(asOf time.Time, seed uint64) *idAllocator {
	y, m, d := asOf.AddDate(-125, 0, 0).Date()
	return &idAllocator{base: time.Date(y, m, d, 0, 0, 0, 0, chinaTime), seed: seed, counts: map[string][]uint16{}}
}

// next returns a resident ID not handed out before for someone of the address code (6 digits),
// birth day and gender. After 500 people of one code, day and gender it moves to the next day.
func (a *idAllocator) next(region string, birth time.Time, male bool) string {
	for {
		day := int(birth.Sub(a.base).Hours()/24 + 0.5)
		if day < 0 || day >= idDays {
			day = min(max(day, 0), idDays-1)
		}
		c := a.counts[region]
		if c == nil {
			c = make([]uint16, 2*idDays)
			a.counts[region] = c
		}
		slot := day*2 + b2i(male)
		if c[slot] < 500 {
			n := int(c[slot])
			c[slot]++
			// A start that depends on code, day and gender spreads the sequences over 000–999.
			h := a.seed ^ uint64(slot)*0x9e3779b97f4a7c15
			for _, ch := range []byte(region) {
				h = (h ^ uint64(ch)) * 0x100000001b3
			}
			return residentID(region, birth, int((h>>33)%500)+n, male)
		}
		birth = birth.AddDate(0, 0, 1)
	}
}
