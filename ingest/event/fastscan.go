package event

import (
	"encoding/binary"
	"encoding/json"
	"math/bits"
)

// The fast scanner is a hand-written validating JSON reader for the common case of the hot path:
// it reads a batch (or single-event) body in one pass over its bytes, slicing out the same
// members as the jsontext scanner (scan.go) does, 2–3 times as fast. It never decides
// anything on its own: whenever the input is not plain, valid JSON it understands completely —
// a syntax error, an escaped member name, a \u escape of a surrogate, deep nesting, a "batch"
// that is not an array — it gives up (ok false) and the caller runs the jsontext scanner, which
// accepts or rejects the input and words the error. So the two accept exactly the same inputs
// and return the same spans, which FuzzFastScan checks.

// fastMaxDepth is the nesting the fast scanner handles; deeper input goes to jsontext.
const fastMaxDepth = 200

// fscan is the fast scanner's state: src and the offset of the next byte.
type fscan struct {
	src     []byte
	i       int
	depth   int
	ctxMemo specialMemo // of the items' contexts
}

// strByte marks the bytes that end the plain run of a JSON string: '"', '\\' and the control
// characters, which must be escaped.
var strByte = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero flags (in its top bit) the zero bytes of x; bytes above the first zero one may be
// flagged wrongly, those below never are.
func hasZero(x uint64) uint64 { return (x - lsb) & ^x & msb }

func (s *fscan) ws() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next byte after whitespace, 0 at the end.
func (s *fscan) peek() byte {
	s.ws()
	if s.i >= len(s.src) {
		return 0
	}
	return s.src[s.i]
}

// str reads the string literal at s.i and reports whether it is valid and whether it holds an
// escape.
func (s *fscan) str() (escaped, ok bool) {
	src, i := s.src, s.i+1
	for {
		// Eight bytes at a time: the lowest byte flagged in m is the first '"', '\\' or
		// control character (SWAR); the last few bytes of the input one by one.
		if i+8 <= len(src) {
			x := binary.LittleEndian.Uint64(src[i:])
			m := hasZero(x^(lsb*'"')) | hasZero(x^(lsb*'\\')) | (x-lsb*0x20)&^x&msb
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		} else {
			for i < len(src) && !strByte[src[i]] {
				i++
			}
			if i >= len(src) {
				return false, false
			}
		}
		switch src[i] {
		case '"':
			s.i = i + 1
			return escaped, true
		case '\\':
			escaped = true
			if i+1 >= len(src) {
				return false, false
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(src) {
					return false, false
				}
				r := 0
				for _, c := range src[i+2 : i+6] {
					var d int
					switch {
					case c >= '0' && c <= '9':
						d = int(c - '0')
					case c >= 'a' && c <= 'f':
						d = int(c-'a') + 10
					case c >= 'A' && c <= 'F':
						d = int(c-'A') + 10
					default:
						return false, false
					}
					r = r<<4 | d
				}
				if r >= 0xD800 && r <= 0xDFFF {
					return false, false // surrogates: leave them to jsontext
				}
				i += 6
			default:
				return false, false
			}
		default: // a control character
			return false, false
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads the number literal at s.i.
func (s *fscan) number() bool {
	src, i := s.src, s.i
	if i < len(src) && src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(src) && src[i] == '.' {
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return false
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || !isDigit(src[i]) {
			return false
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	s.i = i
	return true
}

func (s *fscan) literal(lit string) bool {
	if len(s.src)-s.i < len(lit) || string(s.src[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// skip reads one value (after whitespace).
func (s *fscan) skip() bool {
	switch s.peek() {
	case '"':
		_, ok := s.str()
		return ok
	case '{':
		return s.skipObject()
	case '[':
		if s.depth++; s.depth > fastMaxDepth {
			return false
		}
		s.i++
		if s.peek() == ']' {
			s.i++
			s.depth--
			return true
		}
		for {
			if !s.skip() {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				s.depth--
				return true
			default:
				return false
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		return false
	default:
		return s.number()
	}
}

// value reads one value and returns it as a slice of src.
func (s *fscan) value() (json.RawMessage, bool) {
	v, ok := s.span()
	return v.of(s.src), ok
}

// span reads one value and returns its span.
func (s *fscan) span() (span, bool) {
	s.ws()
	start := s.i
	if start < len(s.src) && s.src[start] == '"' { // most values the parser reads are strings
		if _, ok := s.str(); !ok {
			return span{}, false
		}
	} else if !s.skip() {
		return span{}, false
	}
	return span{int32(start), int32(s.i)}, true
}

// enter reads the '{' of an object (after whitespace) and returns its offset.
func (s *fscan) enter() (int, bool) {
	if s.peek() != '{' {
		return 0, false
	}
	if s.depth++; s.depth > fastMaxDepth {
		return 0, false
	}
	s.i++
	return s.i - 1, true
}

// member reads what follows the n-th member of an object (n = 0: the opening brace): the next
// member's name (without quotes; a name with escapes gives up) and its ':', leaving s.i before
// its value, or the closing '}' (done).
func (s *fscan) member(n int) (name []byte, done, ok bool) {
	switch c := s.peek(); {
	case c == '}':
		s.i++
		s.depth--
		return nil, true, true
	case n > 0 && c != ',':
		return nil, false, false
	case n > 0:
		s.i++
		if s.peek() != '"' {
			return nil, false, false
		}
	case c != '"':
		return nil, false, false
	}
	start := s.i
	if esc, ok := s.str(); !ok || esc {
		return nil, false, false
	}
	name = s.src[start+1 : s.i-1]
	if s.peek() != ':' {
		return nil, false, false
	}
	s.i++
	return name, false, true
}

// skipObject reads an object.
func (s *fscan) skipObject() bool {
	if _, ok := s.enter(); !ok {
		return false
	}
	for n := 0; ; n++ {
		_, done, ok := s.member(n)
		if !ok {
			return false
		}
		if done {
			return true
		}
		if !s.skip() {
			return false
		}
	}
}
