package events

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// members reads the top-level members of a JSON object without decoding it into a map: for
// each wanted key it keeps the raw value of its last occurrence (as encoding/json's map decoding
// does). ok is false when raw is not a valid JSON object, or when a key has escapes or invalid
// UTF-8 (then the caller decodes with encoding/json, which rewrites such keys). Values are sub-slices of raw.
func members(raw json.RawMessage, keys []string, vals []json.RawMessage) (ok bool) {
	return membersOf(raw, keys, vals, false)
}

// membersOf is members; valid says raw is known to be valid JSON (a value lookup returned),
// which spares checking it again.
func membersOf(raw json.RawMessage, keys []string, vals []json.RawMessage, valid bool) (ok bool) {
	clear(vals)
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '{' || !(valid || json.Valid(raw)) {
		return false
	}
	i := skipSpace(raw, 1)
	if raw[i] == '}' {
		return true
	}
	for {
		// raw[i] is '"': a key (valid JSON).
		end, escaped := stringEnd(raw, i)
		key := raw[i+1 : end-1]
		if escaped || !utf8.Valid(key) { // encoding/json unescapes, or replaces bad bytes with U+FFFD
			return false
		}
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // past ':'
		vEnd := valueEnd(raw, i)
		for k, want := range keys {
			if string(key) == want {
				vals[k] = raw[i:vEnd]
			}
		}
		i = skipSpace(raw, vEnd)
		if raw[i] == '}' {
			return true
		}
		i = skipSpace(raw, i+1) // past ','
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"', and whether it has
// escapes. b is valid JSON.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return len(b), escaped
}

// valueEnd returns the index just past the value starting at b[i]. b is valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default: // number, true, false, null
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		return j
	}
}

// lookup is members with a fallback: the values of keys in the object raw (nil where absent, all
// nil when raw is not an object), as object(raw)[key] would give them.
func lookup(raw json.RawMessage, keys []string, vals []json.RawMessage) {
	lookupOf(raw, keys, vals, false)
}

// lookupOf is lookup; valid as for membersOf. Every value lookup returns is valid JSON (a part
// of a valid object), so a lookup inside it passes valid.
func lookupOf(raw json.RawMessage, keys []string, vals []json.RawMessage, valid bool) {
	if membersOf(raw, keys, vals, valid) {
		return
	}
	m := object(raw)
	for k, key := range keys {
		vals[k] = m[key]
	}
}
