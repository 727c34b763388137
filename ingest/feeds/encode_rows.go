package feeds

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
)

// A CSV body's rows all have the header's columns, so most of encode's work per row depends only
// on the columns: which field a column maps to, the sorted and escaped keys of the raw object, of
// fields and of unmapped, the record's members other than row and fields. columnPlan does that
// work once per body and encodes each row from its values by position, writing the bytes encode
// writes for the same row as a map (TestColumnPlan and FuzzColumnPlan hold it to encode).

// columnPlan encodes the rows of one body with fixed columns (formats.ColumnReader).
type columnPlan struct {
	raw, fields, unmapped []planKey
	head                  []byte // {"batch_id":…,"dataset":…,"row":
	tail                  []byte // ,"standard_version":…,"received_at":…}
	keyCol                int    // the column of DatasetConfig.KeyField, -1 when none
	rowKey, hashKey       string // the Kafka key's prefixes: source|batch| and source|

	vals []byte // the row's values as JSON strings, one after another
	ends []int  // where each column's value ends in vals
	buf  []byte // the record or the raw object being written
}

// planKey is one member of an object: the column whose value it holds and its key as JSON,
// `"key":` (`,"key":` after the first member).
type planKey struct {
	col int
	key []byte
}

// newColumnPlan returns the plan for rows with columns (distinct names), or nil when the rows
// must go through encode (the record's time cannot be written, or the mapping sends two columns
// to one field).
func newColumnPlan(m Manifest, dc DatasetConfig, columns []string, received time.Time) *columnPlan {
	fr := feedrecord.Record{BatchID: m.BatchID, Source: m.Source, SourceKind: m.SourceKind, Dataset: m.Dataset,
		StandardVersion: m.StandardVersion, ReceivedAt: received}
	at, err := fr.ReceivedAt.MarshalJSON()
	if err != nil {
		return nil
	}
	p := &columnPlan{keyCol: -1, ends: make([]int, len(columns)),
		rowKey: m.Source + "|" + m.BatchID + "|", hashKey: m.Source + "|"}
	type named struct {
		name string
		col  int
	}
	var raw, fields, unmapped []named
	for i, c := range columns {
		raw = append(raw, named{c, i})
		field, mapped := c, true
		if len(dc.Mapping) > 0 {
			field, mapped = dc.Mapping[c]
		}
		if !mapped {
			unmapped = append(unmapped, named{c, i})
			continue
		}
		fields = append(fields, named{field, i})
		if dc.KeyField != "" && field == dc.KeyField {
			p.keyCol = i
		}
	}
	keys := func(ns []named) ([]planKey, bool) {
		slices.SortFunc(ns, func(a, b named) int { return strings.Compare(a.name, b.name) })
		out := make([]planKey, len(ns))
		for i, n := range ns {
			if i > 0 && ns[i-1].name == n.name {
				return nil, false
			}
			var k []byte
			if i > 0 {
				k = append(k, ',')
			}
			out[i] = planKey{col: n.col, key: append(appendString(k, n.name), ':')}
		}
		return out, true
	}
	var ok1, ok2, ok3 bool
	p.raw, ok1 = keys(raw)
	p.fields, ok2 = keys(fields)
	p.unmapped, ok3 = keys(unmapped)
	if !ok1 || !ok2 || !ok3 {
		return nil
	}

	// The members around row, fields and unmapped, in appendRecord's order.
	h := append([]byte(nil), `{"batch_id":`...)
	h = appendString(h, fr.BatchID)
	h = append(h, `,"source":`...)
	h = appendString(h, fr.Source)
	if fr.SourceKind != "" {
		h = append(h, `,"source_kind":`...)
		h = appendString(h, fr.SourceKind)
	}
	h = append(h, `,"dataset":`...)
	h = appendString(h, fr.Dataset)
	p.head = append(h, `,"row":`...)
	var t []byte
	if fr.StandardVersion != "" {
		t = append(t, `,"standard_version":`...)
		t = appendString(t, fr.StandardVersion)
	}
	t = append(t, `,"received_at":`...)
	t = append(t, at...)
	p.tail = append(t, '}')
	return p
}

// encode returns what encode returns for the row with these values (one per column, valid UTF-8
// as a formats.ColumnReader returns them): the Kafka value and key and the raw object for
// ods_feed_records, their bytes taken from mem.
func (p *columnPlan) encode(mem *arena, row int64, values []string) (value, key []byte, raw string) {
	p.vals = p.vals[:0]
	for i, v := range values {
		p.vals = appendUTF8(p.vals, v) // a ColumnReader's values are valid UTF-8
		p.ends[i] = len(p.vals)
	}

	b := append(p.buf[:0], '{')
	b = p.appendMembers(b, p.raw)
	b = append(b, '}')
	raw = mem.string(b)

	b = append(b[:0], p.head...)
	b = strconv.AppendInt(b, row, 10)
	b = append(b, `,"fields":{`...)
	b = p.appendMembers(b, p.fields)
	b = append(b, '}')
	if len(p.unmapped) > 0 {
		b = append(b, `,"unmapped":{`...)
		b = p.appendMembers(b, p.unmapped)
		b = append(b, '}')
	}
	b = append(b, p.tail...)
	value = mem.bytes(b)

	if p.keyCol >= 0 && values[p.keyCol] != "" {
		// Hashed, as encode does: the key is often a resident ID.
		sum := sha256.Sum256(append(b[:0], values[p.keyCol]...))
		b = append(b[:0], p.hashKey...)
		b = hex.AppendEncode(b, sum[:16])
	} else {
		b = append(b[:0], p.rowKey...)
		b = strconv.AppendInt(b, row, 10)
	}
	key = mem.bytes(b)
	p.buf = b
	return value, key, raw
}

// appendMembers appends the members keys name, their values copied from p.vals.
func (p *columnPlan) appendMembers(b []byte, keys []planKey) []byte {
	for _, k := range keys {
		b = append(b, k.key...)
		start := 0
		if k.col > 0 {
			start = p.ends[k.col-1]
		}
		b = append(b, p.vals[start:p.ends[k.col]]...)
	}
	return b
}

// arenaChunk is how many bytes arena allocates at a time.
const arenaChunk = 64 << 10

// arena hands out the encoded rows' bytes and strings from a few large allocations instead of
// three small ones per row. What it hands out is never written again; a chunk is freed once
// nothing it handed out is referenced (the Kafka client and the ods_feed_records writer hold
// rows until they are sent).
type arena struct {
	b []byte
	s strings.Builder // a Builder never changes the bytes of a String it returned
}

// bytes returns a copy of p (its capacity its length, so that appending to it copies).
func (a *arena) bytes(p []byte) []byte {
	if cap(a.b)-len(a.b) < len(p) {
		a.b = make([]byte, 0, max(arenaChunk, len(p)))
	}
	start := len(a.b)
	a.b = append(a.b, p...)
	return a.b[start:len(a.b):len(a.b)]
}

// string returns p as a string.
func (a *arena) string(p []byte) string {
	if a.s.Cap()-a.s.Len() < len(p) {
		a.s = strings.Builder{}
		a.s.Grow(max(arenaChunk, len(p)))
	}
	a.s.Write(p)
	s := a.s.String()
	return s[len(s)-len(p):]
}
