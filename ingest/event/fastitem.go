package event

import (
	"bytes"
	"encoding/json"
)

// The fast scanner's reading of batches, items and their special members: the same members,
// slices and offsets as scan.go's readItem, readSpecial and readApp (see fastscan.go).

// fastScanBatch is scanBatch's fast path on a body without surrounding whitespace.
func fastScanBatch(src []byte) (batchBody, bool) {
	return fastScanBatchInto(src, nil)
}

// fastScanBatchInto is fastScanBatch reading the items into items' memory.
func fastScanBatchInto(src []byte, items []item) (batchBody, bool) {
	s := &fscan{src: src}
	var b batchBody
	if _, ok := s.enter(); !ok {
		return batchBody{}, false
	}
	for n := 0; ; n++ {
		name, done, ok := s.member(n)
		if !ok {
			return batchBody{}, false
		}
		if done {
			break
		}
		switch string(name) {
		case "batch":
			if b.Batch != nil {
				items = nil // a repeated "batch": the last one wins, in memory of its own
			}
			if b.Batch, ok = s.items(items); !ok {
				return batchBody{}, false
			}
		case "context":
			b.Context, ok = s.value()
		case "sentAt":
			b.SentAt, ok = s.value()
		default:
			ok = s.skip()
		}
		if !ok {
			return batchBody{}, false
		}
	}
	if s.peek() != 0 || s.i != len(src) {
		return batchBody{}, false
	}
	return b, true
}

// items reads the batch array (anything else gives up), reusing old's memory.
func (s *fscan) items(old []item) ([]item, bool) {
	if s.peek() != '[' {
		return nil, false
	}
	s.i++
	s.depth++
	out := old[:0]
	if out == nil {
		out = make([]item, 0, 64)
	}
	// out may reuse memory of an earlier batch: every element is overwritten before use.
	if s.peek() == ']' {
		s.i++
		s.depth--
		return out, true
	}
	for {
		out = append(out, item{})
		if !s.item(&out[len(out)-1]) {
			return nil, false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return out, true
		default:
			return nil, false
		}
	}
}

// fastScanItem is the single-event fast path: src (without surrounding whitespace) is one object.
func fastScanItem(src []byte) (item, bool) {
	s := &fscan{src: src}
	var it item
	if !s.item(&it) || s.peek() != 0 || s.i != len(src) {
		return item{}, false
	}
	return it, true
}

// item is readItem's fast path, into *it (zero).
func (s *fscan) item(it *item) bool {
	var ok bool
	if s.peek() != '{' {
		it.raw, ok = s.value()
		return ok
	}
	start, ok := s.enter()
	if !ok {
		return false
	}
	for n := 0; ; n++ {
		name, done, ok := s.member(n)
		if !ok {
			return false
		}
		if done {
			break
		}
		switch dst, sp := it.slot(name); {
		case dst == nil:
			ok = s.skip()
		case sp == &it.ctxSp:
			ok = s.special(dst, sp, &s.ctxMemo)
		case sp != nil:
			ok = s.special(dst, sp, nil)
		default:
			*dst, ok = s.value()
		}
		if !ok {
			return false
		}
	}
	it.raw = json.RawMessage(s.src[start:s.i:s.i])
	return true
}

// specialMemo is the last object special read with a memo: the context of a batch's events is
// usually the same bytes every time (one device, app and session), and the same bytes give the
// same members at the same offsets, so it is compared rather than read again.
type specialMemo struct {
	raw   json.RawMessage
	depth int
	sp    special
	at    [specialFields]int // offsets of sp's fields in raw
}

// special is readSpecial's fast path: the value into *raw and, for an object, its special
// members into *sp (which it resets). memo, when not nil, remembers the object (see
// specialMemo).
func (s *fscan) special(raw *json.RawMessage, sp *special, memo *specialMemo) bool {
	*sp = special{}
	var ok bool
	if s.peek() != '{' {
		*raw, ok = s.value()
		return ok
	}
	if memo != nil && memo.raw != nil && memo.depth == s.depth && bytes.HasPrefix(s.src[s.i:], memo.raw) {
		start := s.i
		s.i += len(memo.raw)
		*raw = json.RawMessage(s.src[start:s.i:s.i])
		*sp = memo.sp
		for k, f := range sp.fields() {
			if *f != nil {
				a := start + memo.at[k]
				*f = json.RawMessage(s.src[a : a+len(*f) : a+len(*f)])
			}
		}
		return true
	}
	depth := s.depth
	var at [specialFields]int
	start, ok := s.enter()
	if !ok {
		return false
	}
	for n := 0; ; n++ {
		name, done, ok := s.member(n)
		if !ok {
			return false
		}
		if done {
			break
		}
		dst, k := sp.slot(name)
		switch {
		case dst == nil:
			ok = s.skip()
		case k == spApp:
			at[spApp] = s.peekAt()
			ok = s.app(&sp.app, &sp.appVersion, &at[spAppVersion])
		default:
			if *dst, ok = s.value(); ok {
				at[k] = s.i - len(*dst)
			}
		}
		if !ok {
			return false
		}
	}
	sp.regionAt, sp.serviceAt = 0, 0
	if sp.regionCode != nil {
		sp.regionAt = at[spRegion] - start
	}
	if sp.serviceID != nil {
		sp.serviceAt = at[spService] - start
	}
	*raw = json.RawMessage(s.src[start:s.i:s.i])
	if memo != nil {
		memo.raw, memo.depth, memo.sp = *raw, depth, *sp
		for k := range at {
			memo.at[k] = at[k] - start
		}
	}
	return true
}

// peekAt is the offset of the next value.
func (s *fscan) peekAt() int {
	s.ws()
	return s.i
}

// app is readApp's fast path.
func (s *fscan) app(app, version *json.RawMessage, versionAt *int) bool {
	var ok bool
	*version = nil
	if s.peek() != '{' {
		*app, ok = s.value()
		return ok
	}
	start, ok := s.enter()
	if !ok {
		return false
	}
	for n := 0; ; n++ {
		name, done, ok := s.member(n)
		if !ok {
			return false
		}
		if done {
			break
		}
		if string(name) != "version" {
			if !s.skip() {
				return false
			}
			continue
		}
		if *version, ok = s.value(); !ok {
			return false
		}
		*versionAt = s.i - len(*version)
	}
	*app = json.RawMessage(s.src[start:s.i:s.i])
	return true
}
