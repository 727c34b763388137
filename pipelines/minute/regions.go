package minute

import (
	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// regionPath returns the codes an event with the given region code counts in, city first: the
// city (first 4 digits), district (6), street (9) and community (all 12) codes, each padded with
// zeros, without repeats (a street-level code has no community). An event without a valid
// 12-digit code counts in the unknown region "" only.
func regionPath(code string) []string {
	if len(code) != event.RegionCodeLen {
		return []string{""}
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return []string{""}
		}
	}
	out := make([]string, 0, 4)
	for _, n := range []int{4, 6, 9, 12} {
		c := code[:n] + "000000000000"[:12-n]
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	return out
}

// regionCode turns a region prefix (4, 6, 9 or 12 digits, as dimdata.Prefix gives) or a 12-digit
// code into the 12-digit code whose rows hold the region's totals, and its significant prefix
// (every descendant's code starts with it). ok is false for anything else.
func regionCode(region string) (code, prefix string, ok bool) {
	for i := 0; i < len(region); i++ {
		if region[i] < '0' || region[i] > '9' {
			return "", "", false
		}
	}
	switch len(region) {
	case 4, 6, 9:
		return region + "000000000000"[:12-len(region)], region, true
	case 12:
		return region, dimdata.Prefix(region, dimdata.LevelOf(region)), true
	}
	return "", "", false
}
