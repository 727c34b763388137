package cleaning

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/warehouse/standard"
)

// decoded is a feed record as Clean uses it: the record's header; its fields go to a
// standard.Row of the dataset (decodeRecord's row).
type decoded struct {
	fr feedrecord.Record // Fields and Unmapped are not filled
	// unmapped reports a non-empty "unmapped" object.
	unmapped bool
	// errs are the fields whose value is not text (a nested object or array).
	errs []standard.FieldError
	// src is the record's value as a string when the fast path made it, else "".
	src string
}

// errSlowPath: the fast decoder met something outside the canonical shape the gateway writes;
// the record is decoded again by encoding/json, whose answer is the reference.
var errSlowPath = errors.New("not the canonical feed record shape")

// decodeRecord decodes a feed record, its fields into row (which it resets): row.Raw holds the
// dataset's fields as text and row.Unknown the other names. The fast path reads the shape the
// gateway writes (known keys once each, flat text values); anything else goes through
// encoding/json (decodeSlow), so the result is always what encoding/json would give.
func decodeRecord(value []byte, row *standard.Row) (decoded, error) {
	if d, err := decodeFast(value, row); err == nil {
		return d, nil
	}
	return decodeSlow(value, row)
}

// decodeSlow is the reference decoder: encoding/json with numbers kept as their literal text.
func decodeSlow(value []byte, row *standard.Row) (decoded, error) {
	row.Reset()
	var fr feedrecord.Record
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber() // an 18-digit ID number sent as a JSON number keeps its digits
	err := dec.Decode(&fr)
	if err == nil && dec.More() {
		err = fmt.Errorf("more than one JSON value")
	}
	if err != nil {
		return decoded{}, err
	}
	d := decoded{unmapped: len(fr.Unmapped) > 0}
	for k, v := range fr.Fields {
		s, ok := text(v)
		if !ok {
			d.errs = append(d.errs, standard.FieldError{Field: k, Code: standard.CodeType, Reason: "a nested value, want text or a number"})
			continue
		}
		row.Set(k, s)
	}
	fr.Fields, fr.Unmapped = nil, nil
	d.fr = fr
	return d, nil
}

// scanner reads JSON tokens from one record. Strings without escapes are substrings of src (one
// allocation for the record).
type scanner struct {
	b   []byte
	src string
	i   int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// expect consumes c after whitespace.
func (s *scanner) expect(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// peek returns the next non-space byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str reads a JSON string. A string with escapes or bytes that are not valid UTF-8 is decoded by
// encoding/json (same result as the reference).
func (s *scanner) str() (string, error) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", errSlowPath
	}
	start := s.i
	plain := true
	for j := start + 1; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			s.i = j + 1
			if plain && utf8.Valid(s.b[start+1:j]) {
				return s.src[start+1 : j], nil
			}
			var out string
			if err := json.Unmarshal(s.b[start:j+1], &out); err != nil {
				return "", errSlowPath
			}
			return out, nil
		case c == '\\':
			plain = false
			j++ // skip the escaped byte (a \uXXXX's digits are plain bytes)
		case c < 0x20:
			return "", errSlowPath
		case c >= utf8.RuneSelf:
			// validated with utf8.Valid at the end
		}
	}
	return "", errSlowPath
}

// number reads a JSON number and returns its literal text.
func (s *scanner) number() (string, error) {
	s.ws()
	start, j := s.i, s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
		return j - k
	}
	switch n := digits(); {
	case n == 0:
		return "", errSlowPath
	case n > 1 && s.b[j-n] == '0':
		return "", errSlowPath // leading zero
	}
	if j < len(s.b) && s.b[j] == '.' {
		j++
		if digits() == 0 {
			return "", errSlowPath
		}
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return "", errSlowPath
		}
	}
	s.i = j
	return s.src[start:j], nil
}

// literal consumes a bare word (true, false, null).
func (s *scanner) literal(w string) bool {
	s.ws()
	if len(s.b)-s.i >= len(w) && s.src[s.i:s.i+len(w)] == w {
		s.i += len(w)
		return true
	}
	return false
}

// textValue reads a flat value of "fields" as Clean reads it (text): strings as they are,
// numbers in their literal spelling, true/false, null as empty.
func (s *scanner) textValue() (string, error) {
	switch c := s.peek(); {
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case s.literal("null"):
		return "", nil
	case s.literal("true"):
		return "true", nil
	case s.literal("false"):
		return "false", nil
	}
	return "", errSlowPath
}

// object reads a flat object, calling fn for each member.
func (s *scanner) object(fn func(k, v string)) error {
	if !s.expect('{') {
		return errSlowPath
	}
	if s.expect('}') {
		return nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return err
		}
		if !s.expect(':') {
			return errSlowPath
		}
		v, err := s.textValue()
		if err != nil {
			return err
		}
		fn(k, v)
		if s.expect(',') {
			continue
		}
		if s.expect('}') {
			return nil
		}
		return errSlowPath
	}
}

// decodeFast decodes the canonical shape: one object whose keys are feedrecord.Record's JSON
// names, each at most once and spelt exactly, string members as strings, "row" an integer, and
// "fields" and "unmapped" flat objects; nothing after it but spaces.
func decodeFast(value []byte, row *standard.Row) (decoded, error) {
	row.Reset()
	s := scanner{b: value, src: string(value)}
	d := decoded{src: s.src}
	if !s.expect('{') {
		return d, errSlowPath
	}
	var seen uint16
	if s.expect('}') {
		return d, errSlowPath
	}
	for {
		k, err := s.str()
		if err != nil {
			return d, err
		}
		if !s.expect(':') {
			return d, errSlowPath
		}
		bit, str := uint16(0), (*string)(nil)
		switch k {
		case "batch_id":
			bit, str = 1, &d.fr.BatchID
		case "source":
			bit, str = 2, &d.fr.Source
		case "source_kind":
			bit, str = 4, &d.fr.SourceKind
		case "dataset":
			bit, str = 8, &d.fr.Dataset
		case "standard_version":
			bit, str = 16, &d.fr.StandardVersion
		case "row":
			bit = 32
		case "fields":
			bit = 64
		case "unmapped":
			bit = 128
		case "received_at":
			bit = 256
		default:
			return d, errSlowPath
		}
		if seen&bit != 0 {
			return d, errSlowPath
		}
		seen |= bit
		switch {
		case str != nil:
			if *str, err = s.str(); err != nil {
				return d, err
			}
		case bit == 32:
			lit, err := s.number()
			if err != nil {
				return d, err
			}
			if d.fr.Row, err = strconv.ParseInt(lit, 10, 64); err != nil {
				return d, errSlowPath
			}
		case bit == 64:
			if err := s.object(row.Set); err != nil {
				return d, err
			}
		case bit == 128:
			if err := s.object(func(string, string) { d.unmapped = true }); err != nil {
				return d, err
			}
		case bit == 256:
			start := s.i
			if _, err := s.str(); err != nil {
				return d, err
			}
			var t time.Time
			if err := t.UnmarshalJSON(bytes.TrimLeft(value[start:s.i], " \t\r\n")); err != nil {
				return d, errSlowPath
			}
			d.fr.ReceivedAt = t
		}
		if s.expect(',') {
			continue
		}
		if s.expect('}') {
			break
		}
		return d, errSlowPath
	}
	if s.ws(); s.i != len(s.b) {
		return d, errSlowPath
	}
	return d, nil
}
