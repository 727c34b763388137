package plan

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// members walks the top-level members of a JSON object without decoding it: each call to next
// yields a key (still quoted and escaped) and the raw value. It allocates nothing. It checks the
// structure it walks (quotes, brackets, separators) but not every detail of the values' syntax:
// callers parse the values they use and treat what does not parse as a wrong type.
type members struct {
	data []byte
	pos  int
	done bool
}

var errSyntax = errors.New("not a JSON object")

// start positions the walker inside the object raw; an empty raw is an empty object.
func (m *members) start(raw []byte) error {
	m.data, m.pos, m.done = raw, 0, false
	m.ws()
	if m.pos == len(m.data) {
		m.done = true
		return nil
	}
	if m.data[m.pos] != '{' {
		return errSyntax
	}
	m.pos++
	m.ws()
	if m.pos < len(m.data) && m.data[m.pos] == '}' {
		m.pos++
		m.done = true
	}
	return nil
}

// next returns the next member; ok is false at the end of the object.
func (m *members) next() (key, val []byte, ok bool, err error) {
	if m.done {
		return nil, nil, false, nil
	}
	m.ws()
	kEnd, err := m.skipString(m.pos)
	if err != nil {
		return nil, nil, false, err
	}
	key = m.data[m.pos:kEnd]
	m.pos = kEnd
	m.ws()
	if m.pos >= len(m.data) || m.data[m.pos] != ':' {
		return nil, nil, false, errSyntax
	}
	m.pos++
	m.ws()
	vEnd, err := m.skipValue(m.pos)
	if err != nil {
		return nil, nil, false, err
	}
	val = m.data[m.pos:vEnd]
	m.pos = vEnd
	m.ws()
	if m.pos >= len(m.data) {
		return nil, nil, false, errSyntax
	}
	switch m.data[m.pos] {
	case ',':
		m.pos++
	case '}':
		m.pos++
		m.done = true
	default:
		return nil, nil, false, errSyntax
	}
	return key, val, true, nil
}

// elements walks the elements of a JSON array the way members walks an object's members:
// without decoding or allocating, checking the structure it walks, not the values' syntax.
type elements struct{ members }

// start positions the walker inside the array raw, which must start with '['.
func (a *elements) start(raw []byte) error {
	a.data, a.pos, a.done = raw, 0, false
	a.ws()
	if a.pos == len(a.data) || a.data[a.pos] != '[' {
		return errSyntax
	}
	a.pos++
	a.ws()
	if a.pos < len(a.data) && a.data[a.pos] == ']' {
		a.pos++
		a.done = true
	}
	return nil
}

// next returns the next element; ok is false at the end of the array.
func (a *elements) next() (val []byte, ok bool, err error) {
	if a.done {
		return nil, false, nil
	}
	a.ws()
	end, err := a.skipValue(a.pos)
	if err != nil {
		return nil, false, err
	}
	val = a.data[a.pos:end]
	a.pos = end
	a.ws()
	if a.pos >= len(a.data) {
		return nil, false, errSyntax
	}
	switch a.data[a.pos] {
	case ',':
		a.pos++
	case ']':
		a.pos++
		a.done = true
	default:
		return nil, false, errSyntax
	}
	return val, true, nil
}

func (m *members) ws() {
	for m.pos < len(m.data) {
		switch m.data[m.pos] {
		case ' ', '\t', '\n', '\r':
			m.pos++
		default:
			return
		}
	}
}

// skipString returns the index just past the string starting at i.
func (m *members) skipString(i int) (int, error) {
	if i >= len(m.data) || m.data[i] != '"' {
		return 0, errSyntax
	}
	for i++; i < len(m.data); i++ {
		switch m.data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errSyntax
}

// skipValue returns the index just past the value starting at i.
func (m *members) skipValue(i int) (int, error) {
	if i >= len(m.data) {
		return 0, errSyntax
	}
	switch m.data[i] {
	case '"':
		return m.skipString(i)
	case '{', '[':
		depth := 0
		for ; i < len(m.data); i++ {
			switch m.data[i] {
			case '"':
				end, err := m.skipString(i)
				if err != nil {
					return 0, err
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errSyntax
	case ',', '}', ']', ':':
		return 0, errSyntax
	default: // number, true, false, null
		j := i
		for j < len(m.data) {
			switch m.data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j, nil
			}
			j++
		}
		return j, nil
	}
}

// unquote returns the contents of a JSON string token as encoding/json would decode it. Plain
// tokens (no escapes, valid UTF-8: nearly all) give a sub-slice of the token without allocating;
// others are decoded, invalid UTF-8 becoming U+FFFD.
func unquote(tok []byte) ([]byte, bool) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return nil, false
	}
	inner := tok[1 : len(tok)-1]
	ascii := true
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			return decodeString(tok)
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(inner) {
		return decodeString(tok)
	}
	return inner, true
}

func decodeString(tok []byte) ([]byte, bool) {
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}
