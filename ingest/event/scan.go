package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// The parser reads JSON with jsontext (the syntactic layer of encoding/json/v2): one validating
// pass per object level, values sliced out of the input rather than decoded, which is several
// times faster than encoding/json's validate-then-decode on the hot path. Its options keep
// encoding/json's leniency: duplicate names (the last one wins) and invalid UTF-8 in strings
// are accepted.
var scanOpts = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// scanner is a pooled jsontext.Decoder with the bytes.Buffer it reads from.
type scanner struct {
	dec jsontext.Decoder
	buf bytes.Buffer
	src []byte
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

func getScanner(src []byte) *scanner {
	s := scanners.Get().(*scanner)
	s.src = src
	s.buf = *bytes.NewBuffer(src) // the decoder parses straight from src, without a copy
	s.dec.Reset(&s.buf, scanOpts...)
	return s
}

func putScanner(s *scanner) {
	s.src = nil
	s.buf = bytes.Buffer{}
	s.dec.Reset(&s.buf) // drop the reference to src
	scanners.Put(s)
}

// value reads the next value and returns it as a slice of src (not of the decoder's buffer), so
// it stays valid as long as src does.
func (s *scanner) value() (json.RawMessage, error) {
	v, err := s.dec.ReadValue()
	if err != nil {
		return nil, err
	}
	end := int(s.dec.InputOffset())
	start := end - len(v)
	if start < 0 || end > len(s.src) {
		return nil, errors.New("jsontext: value outside its input") // never happens
	}
	return json.RawMessage(s.src[start:end:end]), nil
}

// name reads the next object member name.
func (s *scanner) name() (string, error) {
	v, err := s.dec.ReadValue()
	if err != nil {
		return "", err
	}
	return unquote(v), nil
}

// end reports an error unless the input holds nothing more.
func (s *scanner) end() error {
	if _, err := s.dec.ReadToken(); err == nil {
		return errors.New("more than one JSON value")
	} else if !errors.Is(err, errEOF) {
		return err
	}
	return nil
}

// errEOF is what jsontext returns at the end of its input.
var errEOF = func() error {
	var d jsontext.Decoder
	d.Reset(bytes.NewBuffer(nil))
	_, err := d.ReadToken()
	return err
}()

// objectMembers reads the JSON object raw into a map of its members' raw values, which alias
// raw; a later member replaces an earlier one of the same name. It fails unless raw is exactly
// one valid JSON object.
func objectMembers(raw []byte) (map[string]json.RawMessage, error) {
	s := getScanner(raw)
	defer putScanner(s)
	tok, err := s.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, fmt.Errorf("not an object")
	}
	m := make(map[string]json.RawMessage, 8)
	for s.dec.PeekKind() == '"' {
		k, err := s.name()
		if err != nil {
			return nil, err
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	if _, err := s.dec.ReadToken(); err != nil { // '}', or the syntax error PeekKind saw
		return nil, err
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	return m, nil
}

// unquote decodes a JSON string literal (already validated). Invalid UTF-8 becomes U+FFFD, as
// with encoding/json.
func unquote(lit []byte) string {
	if len(lit) >= 2 && bytes.IndexByte(lit, '\\') < 0 && utf8.Valid(lit) {
		return string(lit[1 : len(lit)-1])
	}
	b, _ := jsontext.AppendUnquote(nil, lit) // invalid UTF-8 is replaced, which is what we want
	return string(b)
}

// memberName is the name of an object member as a string for comparison: the literal without
// its quotes when it has no escapes (no allocation), else its decoded form.
func memberName(lit []byte) []byte {
	if len(lit) >= 2 && bytes.IndexByte(lit, '\\') < 0 {
		return lit[1 : len(lit)-1]
	}
	return []byte(unquote(lit))
}

// span reads the next value and returns its span in src.
func (s *scanner) span() (span, error) {
	v, err := s.value()
	if err != nil {
		return span{}, err
	}
	return spanAt(int(s.dec.InputOffset())-len(v), v), nil
}

// readItem reads the next value, an event object, in one pass: it descends into properties and
// context to note their special members instead of reading them twice. A value that is not an
// object is returned as raw only (the caller rejects it).
func (s *scanner) readItem() (item, error) {
	var it item
	if s.dec.PeekKind() != '{' {
		v, err := s.span()
		it.raw = v
		return it, err
	}
	start, err := s.open()
	if err != nil {
		return it, err
	}
	for s.dec.PeekKind() == '"' {
		lit, err := s.dec.ReadValue()
		if err != nil {
			return it, err
		}
		switch dst, sp := it.slot(memberName(lit)); {
		case dst == nil:
			err = s.dec.SkipValue()
		case sp != nil:
			*dst, *sp, err = s.readSpecial()
		default:
			*dst, err = s.span()
		}
		if err != nil {
			return it, err
		}
	}
	it.raw, err = s.close(start)
	return it, err
}

// readSpecial reads the next value; when it is an object it also notes its special members.
func (s *scanner) readSpecial() (span, special, error) {
	var sp special
	if s.dec.PeekKind() != '{' {
		v, err := s.span()
		return v, sp, err
	}
	start, err := s.open()
	if err != nil {
		return span{}, sp, err
	}
	for s.dec.PeekKind() == '"' {
		lit, err := s.dec.ReadValue()
		if err != nil {
			return span{}, sp, err
		}
		switch dst, k := sp.slot(memberName(lit)); {
		case dst == nil:
			err = s.dec.SkipValue()
		case k == spApp:
			sp.app, sp.appVersion, err = s.readApp()
		default:
			*dst, err = s.span()
		}
		if err != nil {
			return span{}, sp, err
		}
	}
	raw, err := s.close(start)
	return raw, sp, err
}

// readApp reads the next value and, when it is an object, its "version" member.
func (s *scanner) readApp() (app, version span, err error) {
	if s.dec.PeekKind() != '{' {
		app, err = s.span()
		return app, span{}, err
	}
	start, err := s.open()
	if err != nil {
		return span{}, span{}, err
	}
	for s.dec.PeekKind() == '"' {
		lit, err := s.dec.ReadValue()
		if err != nil {
			return span{}, span{}, err
		}
		if string(memberName(lit)) != "version" {
			if err := s.dec.SkipValue(); err != nil {
				return span{}, span{}, err
			}
			continue
		}
		if version, err = s.span(); err != nil {
			return span{}, span{}, err
		}
	}
	app, err = s.close(start)
	return app, version, err
}

// open reads a '{' and returns its offset.
func (s *scanner) open() (int, error) {
	if _, err := s.dec.ReadToken(); err != nil {
		return 0, err
	}
	return int(s.dec.InputOffset()) - 1, nil
}

// close reads the '}' of the object opened at start and returns the object's span.
func (s *scanner) close(start int) (span, error) {
	if _, err := s.dec.ReadToken(); err != nil {
		return span{}, err
	}
	end := int(s.dec.InputOffset())
	if start < 0 || end > len(s.src) || s.src[start] != '{' {
		return span{}, errors.New("jsontext: object outside its input") // never happens
	}
	return span{int32(start), int32(end)}, nil
}
