package event

import (
	"bytes"
	"encoding/json"
)

// The fast scanner's reading of batches, items and their special members: the same members
// and spans as scan.go's readItem, readSpecial and readApp (see fastscan.go).

// fastScanBatch is scanBatch's fast path on a body without surrounding whitespace.
func fastScanBatch(src []byte) (batchBody, bool) {
	return fastScanBatchInto(src, nil)
}

// fastScanBatchInto is fastScanBatch reading the items into items' memory.
func fastScanBatchInto(src []byte, items []item) (batchBody, bool) {
	s := &fscan{src: src}
	b := batchBody{src: src}
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
	// out may reuse memory of an earlier batch: every element is overwritten before use (items
	// hold no pointers, so what is left past the end keeps nothing alive).
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
		it.raw, ok = s.span()
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
			*dst, ok = s.span()
		}
		if !ok {
			return false
		}
	}
	it.raw = span{int32(start), int32(s.i)}
	return true
}

// specialMemo is the last object special read with a memo: the context of a batch's events is
// usually the same bytes every time (one device, app and session), and the same bytes give the
// same members at the same offsets, so it is compared rather than read again.
type specialMemo struct {
	raw   json.RawMessage
	depth int
	sp    special // spans relative to the start of raw
}

// special is readSpecial's fast path: the value into *v and, for an object, its special
// members into *sp (which it resets). memo, when not nil, remembers the object (see
// specialMemo).
func (s *fscan) special(v *span, sp *special, memo *specialMemo) bool {
	*sp = special{}
	var ok bool
	if s.peek() != '{' {
		*v, ok = s.span()
		return ok
	}
	if memo != nil && memo.raw != nil && memo.depth == s.depth && bytes.HasPrefix(s.src[s.i:], memo.raw) {
		start := int32(s.i)
		s.i += len(memo.raw)
		*v = span{start, int32(s.i)}
		*sp = memo.sp
		for _, f := range sp.fields() {
			if f.ok() {
				f.at += start
				f.end += start
			}
		}
		return true
	}
	depth := s.depth
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
			ok = s.app(&sp.app, &sp.appVersion)
		default:
			*dst, ok = s.span()
		}
		if !ok {
			return false
		}
	}
	*v = span{int32(start), int32(s.i)}
	if memo != nil {
		memo.raw, memo.depth, memo.sp = v.of(s.src), depth, *sp
		for _, f := range memo.sp.fields() {
			if f.ok() {
				f.at -= int32(start)
				f.end -= int32(start)
			}
		}
	}
	return true
}

// app is readApp's fast path.
func (s *fscan) app(app, version *span) bool {
	var ok bool
	*version = span{}
	if s.peek() != '{' {
		*app, ok = s.span()
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
		if *version, ok = s.span(); !ok {
			return false
		}
	}
	*app = span{int32(start), int32(s.i)}
	return true
}
