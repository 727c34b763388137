package event

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Allocation-free readers of the values the parser checks for every event. Each handles the
// common form and leaves anything else to the general code beside it, which decides.

// stringBytes is the content of raw when it is a JSON string literal without escapes and with
// valid UTF-8 (a slice of raw, no copy); ok is false otherwise, also for a string that has
// escapes (then use jsonString).
func stringBytes(raw json.RawMessage) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s) {
		return nil, false
	}
	return s, true
}

// fastRegion is canonRegion for the canonical form, a string of 12 digits: ok when v is one.
func fastRegion(v json.RawMessage) bool {
	s, ok := stringBytes(v)
	return ok && len(s) == RegionCodeLen && allDigitsB(s)
}

// fastService is canonService for a JSON number or a string of digits: canon is the canonical
// form when v is valid but not canonical (a slice of v: the digits without leading zeros), nil
// when it is canonical; ok is false when v is neither (then use canonService, which also words
// the reason).
func fastService(v json.RawMessage) (canon json.RawMessage, ok bool) {
	d := v
	quoted := len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"'
	if quoted {
		d = v[1 : len(v)-1]
	}
	if len(d) == 0 || !allDigitsB(d) {
		return nil, false
	}
	digits := len(d)
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	if len(d) > 10 {
		return nil, false
	}
	var n uint64
	for _, c := range d {
		n = n*10 + uint64(c-'0')
	}
	if n == 0 || n > 1<<32-1 {
		return nil, false
	}
	if quoted || len(d) != digits {
		return d[:len(d):len(d)], true // what strconv.FormatUint(n, 10) gives
	}
	return nil, true
}

func allDigitsB(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
