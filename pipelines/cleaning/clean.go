package cleaning

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse/standard"
)

// Quarantine codes of the pipeline's own, besides the standard's FieldError codes.
const (
	// CodeUndecodable: the Kafka record is not a feed record of the dataset (not JSON, not an
	// object, or for another dataset).
	CodeUndecodable = "undecodable"
)

// Quality flags on valid rows.
const (
	FlagDirtyFixed = "dirty_fixed"      // a string, date or datetime value changed in normalisation
	FlagCodeMapped = "code_mapped"      // a code field was given as a label or alias
	FlagDerived    = "derived:"         // + field: filled from the field it derives from
	FlagUnmapped   = "unmapped_columns" // the source sent columns its mapping does not name
)

// maxTime is the latest receive time believed.
var maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// Cleaned is one valid, normalised record: the dataset's fields (protected fields replaced by
// <field>_hash, <field>_masked and <field>_enc; a region field also gives <field>.city … <field>.community) and
// the meta values, as parallel Names and Values. Rows of one layout share their Names slice, and a
// row's values share one backing string: treat both as read-only.
type Cleaned struct {
	Dataset      string
	Names        []string
	Values       []string
	Flags        []string
	ReceivedAtMs int64
	// Route is where the row goes (RouteDWD, RouteChange or RouteReference), by its source's
	// kind (Spec.Route).
	Route string
	// RequestID is a staged row's stable id: the keyed hash of dataset, source, batch id and row
	// number ("" for RouteDWD).
	RequestID string
}

// lookup returns a getter of c's values by name ("" when absent).
func (c Cleaned) lookup() func(string) string {
	m := make(map[string]string, len(c.Names))
	for i, n := range c.Names {
		m[n] = c.Values[i]
	}
	return func(n string) string { return m[n] }
}

// Get returns the named value of c ("" when absent).
func (c Cleaned) Get(name string) string { return c.lookup()(name) }

// Quarantined is one ods_feed_quarantine row: one field error of a refused record.
type Quarantined struct {
	Dataset      string
	Source       string
	BatchID      string
	RowNo        int64
	Field        string
	Code         string
	Detail       string
	Reason       string
	Raw          string
	ReceivedAtMs int64
}

// QuarantineColumns are the ods_feed_quarantine columns in the order QuarantineValues returns.
var QuarantineColumns = []string{"received_date", "received_at", "dataset", "source", "batch_id", "row_no",
	"field", "code", "detail", "reason", "raw", "loaded_at"}

// QuarantineValues returns q as values for QuarantineColumns; the date is the receive time's in
// China Standard Time.
func (q Quarantined) Values(loadedAt time.Time) []any {
	at := time.UnixMilli(q.ReceivedAtMs).In(cst).Truncate(time.Second)
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	return []any{day, at, q.Dataset, q.Source, q.BatchID, uint64(max(q.RowNo, 0)), q.Field, q.Code, q.Detail, q.Reason, q.Raw, loadedAt}
}

// Cleaner cleans the records of one dataset. It is immutable and safe for concurrent use.
type Cleaner struct {
	spec Spec
	std  *standard.Standard
	ds   *standard.Dataset
	key  []byte
	seal *sealer
	macs *macPool
	// protect and levels are the output names of protected and region fields, by field.
	protect map[string]protected
	levels  map[string][4]string
	// out is how each field of the dataset (by position) becomes output values; identity the
	// positions of the identity fields.
	out      []outField
	identity []int
	// scratch pools the per-call working state (*scratch); layouts caches the Names of each row
	// layout (layoutKey → []string), shared by the rows of that layout.
	scratch sync.Pool
	layouts sync.Map
	nLayout atomic.Int32
}

// outField is how one field becomes output values.
type outField struct {
	f       *standard.Field
	code    bool       // a code field: a changed value is a mapping, not a fix
	prot    *protected // nil when stored in clear
	levels  *[4]string // the region level names; nil when not a region field
	derived string     // the flag of a value filled from its source; "" when not derived
}

// maxLayouts bounds the layouts cache: a dataset has few layouts in practice, and past the
// bound a row builds its own Names.
const maxLayouts = 1024

// appendNames appends the names of o's output columns: the field's, or its hash, mask and sealed
// names, then the four levels when its region resolved.
func (o *outField) appendNames(names []string, region bool) []string {
	if p := o.prot; p != nil {
		names = append(names, p.hash, p.masked, p.enc)
	} else {
		names = append(names, o.f.Name)
	}
	if o.levels != nil && region {
		names = append(names, o.levels[:]...)
	}
	return names
}

// scratch is one Clean call's reusable working state.
type scratch struct {
	row    *standard.Row
	buf    []byte // the generated bytes of a row (hashes, masks, sealed values, row number)
	spans  []span // per output value: where it is in buf, or -1 for a value given as text
	texts  []string
	sealed []byte
	flags  []string
	names  []string
}

// span is a value's bytes in scratch.buf (start < 0: the value is in scratch.texts).
type span struct{ start, end int }

// protected is how one personal field is stored.
type protected struct {
	domain, hash, masked, enc string
	mask                      func(string) string
}

// Keys are the secrets of cleaning.
type Keys struct {
	// Hash keys the identity hash and the personal-field hashes (HMAC-SHA256).
	Hash []byte
	// Encryption is the AES-256 key (EncryptionKeySize bytes) of the personal fields' <field>_enc
	// values, and EncryptionID its id, the prefix of every value it encrypts.
	Encryption   []byte
	EncryptionID string
}

// NewCleaner returns the cleaner of spec's dataset.
func NewCleaner(std *standard.Standard, spec Spec, keys Keys) (*Cleaner, error) {
	ds, ok := std.Dataset(spec.Dataset)
	if !ok {
		return nil, fmt.Errorf("cleaning %s: not a dataset of the standard", spec.Dataset)
	}
	if len(keys.Hash) == 0 {
		return nil, fmt.Errorf("cleaning %s: empty hash key", spec.Dataset)
	}
	seal, err := newSealer(keys.Encryption, keys.EncryptionID)
	if err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", spec.Dataset, err)
	}
	for f := range spec.Protect {
		if _, ok := ds.Field(f); !ok {
			return nil, fmt.Errorf("cleaning %s: protected field %s is not in the standard", spec.Dataset, f)
		}
	}
	c := &Cleaner{spec: spec, std: std, ds: ds, key: append([]byte(nil), keys.Hash...), seal: seal,
		protect: map[string]protected{}, levels: map[string][4]string{}}
	c.macs = newMACPool(c.key)
	for _, f := range ds.Fields {
		if mask, ok := spec.Protect[f.Name]; ok {
			// The hash's domain is the value's format, not the field: a resident ID hashes the
			// same as dwd_person.id_card_hash and dwd_house.owner_id_card_hash, so tables join
			// on it without the ID in clear.
			domain := f.Format
			if domain == "" {
				domain = f.Name
			}
			c.protect[f.Name] = protected{domain: domain, hash: f.Name + "_hash", masked: f.Name + "_masked",
				enc: f.Name + "_enc", mask: mask}
		}
		if f.Format == standard.FormatRegionCode {
			c.levels[f.Name] = [4]string{f.Name + ".city", f.Name + ".district", f.Name + ".street", f.Name + ".community"}
		}
	}
	c.out = make([]outField, len(ds.Fields))
	for i, f := range ds.Fields {
		o := outField{f: f, code: f.Type == standard.TypeCode}
		if p, ok := c.protect[f.Name]; ok {
			o.prot = &p
		}
		if l, ok := c.levels[f.Name]; ok {
			o.levels = &l
		}
		if f.DerivedFrom != "" {
			o.derived = FlagDerived + f.Name
		}
		c.out[i] = o
	}
	for _, name := range ds.Identity {
		i, ok := ds.Index(name)
		if !ok {
			return nil, fmt.Errorf("cleaning %s: identity field %s is not in the standard", spec.Dataset, name)
		}
		c.identity = append(c.identity, i)
	}
	c.scratch.New = func() any { return &scratch{row: ds.NewRow()} }
	return c, nil
}

// Hash is the keyed hash (HMAC-SHA256, hex) of the parts, each followed by a zero byte.
func (c *Cleaner) Hash(parts ...string) string {
	var out [2 * sha256.Size]byte
	return string(c.appendHash(out[:0], parts...))
}

// appendHash appends Hash(parts...) to b.
func (c *Cleaner) appendHash(b []byte, parts ...string) []byte {
	m := c.macs.get()
	for _, p := range parts {
		m.WriteString(p)
		m.Write(zero[:])
	}
	b = hex.AppendEncode(b, m.Sum())
	c.macs.put(m)
	return b
}

// Clean turns one Kafka record into either a valid row or its quarantine rows (at least one). It
// never fails and is deterministic: the standard judges the record as of its receive time (the
// record's timestamp when the feed record has none).
func (c *Cleaner) Clean(rec kafkaio.Record) (*Cleaned, []Quarantined) {
	row := new(Cleaned)
	if q := c.clean(rec, row); q != nil {
		return nil, q
	}
	return row, nil
}

// clean is Clean into out: it fills out and returns nil for a valid record, else returns the
// quarantine rows and leaves out alone.
func (c *Cleaner) clean(rec kafkaio.Record, out *Cleaned) []Quarantined {
	sc := c.scratch.Get().(*scratch)
	defer c.scratch.Put(sc)
	recAt := time.UnixMilli(rec.TimestampMs)
	d, err := decodeRecord(rec.Value, sc.row)
	fr := d.fr
	if err == nil && fr.Dataset != c.spec.Dataset {
		err = fmt.Errorf("dataset %q, want %q", fr.Dataset, c.spec.Dataset)
	}
	raw := d.src // the record as text, made once for every quarantine row
	if raw == "" {
		raw = string(rec.Value)
	}
	if err != nil {
		return []Quarantined{{Dataset: c.spec.Dataset, BatchID: fmt.Sprintf("kafka:%s[%d]@%d", rec.Topic, rec.Partition, rec.Offset),
			Code: CodeUndecodable, Reason: fmt.Sprintf("not a readable feed record: %v", err), Raw: raw, ReceivedAtMs: recAt.UnixMilli()}}
	}
	at := fr.ReceivedAt
	if at.IsZero() || at.Unix() < 0 || at.After(maxTime) { // ClickHouse DateTime ends in 2106
		at = recAt
	}
	c.ds.Validate(sc.row, at)
	errs := d.errs
	if len(sc.row.Errors) > 0 {
		errs = append(errs, sc.row.Errors...) // a copy: the row's slice is reused
	}
	route, ok := c.spec.Route(fr.SourceKind)
	if !ok {
		errs = append(errs, standard.FieldError{Field: "source_kind", Code: CodeSourceKind,
			Reason: fmt.Sprintf("source kind %q is not %s, %s or %s", fr.SourceKind, SourceCommunity, SourceDepartment, SourceReference)})
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		q := make([]Quarantined, 0, len(errs))
		for i, e := range errs {
			if seenError(errs[:i], e) {
				continue
			}
			q = append(q, Quarantined{Dataset: c.spec.Dataset, Source: fr.Source, BatchID: fr.BatchID, RowNo: fr.Row,
				Field: e.Field, Code: e.Code, Detail: e.Detail, Reason: e.Reason, Raw: raw, ReceivedAtMs: at.UnixMilli()})
		}
		return q
	}
	c.valid(sc, out, &fr, d.unmapped, at, route)
	return nil
}

// seenError reports whether errs has an error of e's field and code.
func seenError(errs []standard.FieldError, e standard.FieldError) bool {
	for _, o := range errs {
		if o.Field == e.Field && o.Code == e.Code {
			return true
		}
	}
	return false
}

// valid builds into out the Cleaned row of a record the standard accepted (sc.row validated).
// The generated values (hashes, masks, sealed values, the row number, the request id) share one
// string; values the standard gives (substrings of the record, codes) are used as they are; rows
// of one layout share one Names slice.
func (c *Cleaner) valid(sc *scratch, out *Cleaned, fr *feedrecord.Record, unmapped bool, at time.Time, route string) {
	r := sc.row
	buf, spans, texts, flags := sc.buf[:0], sc.spans[:0], sc.texts[:0], sc.flags[:0]
	addText := func(v string) { spans = append(spans, span{-1, len(texts)}); texts = append(texts, v) }
	// layout says which fields have a value (bit i) and whose region resolved (bit 32+i), the key
	// of the Names cache; a dataset of more than 32 fields has its Names built row by row instead.
	var layout uint64
	wide := len(c.out) > 32
	wideNames := sc.names[:0]
	var dirty, mapped bool
	for i := range c.out {
		o := &c.out[i]
		v := r.Values[i]
		if !v.Valid() {
			continue
		}
		layout |= 1 << i
		s := v.String()
		switch raw := r.Raw[i]; {
		case raw == "":
			if o.derived != "" {
				flags = append(flags, o.derived)
			}
		case o.code && raw != s:
			mapped = true
		case raw != s:
			dirty = true
		}
		if p := o.prot; p != nil {
			start := len(buf)
			buf = c.appendHash(buf, p.domain, s)
			spans = append(spans, span{start, len(buf)})
			addText(p.mask(s))
			start = len(buf)
			buf = c.seal.appendSeal(buf, &sc.sealed, o.f.Name, s)
			spans = append(spans, span{start, len(buf)})
		} else {
			addText(s)
		}
		region := false
		if o.levels != nil {
			if reg, err := c.std.Regions().Lookup(s); err == nil {
				region = true
				layout |= 1 << (32 + i)
				addText(reg.City)
				addText(reg.District)
				addText(reg.Street)
				addText(reg.Community)
			}
		}
		if wide {
			wideNames = o.appendNames(wideNames, region)
		}
	}
	start := len(buf)
	switch len(c.identity) { // the identity hash: dataset, then the identity fields' values
	case 1:
		buf = c.appendHash(buf, c.spec.Dataset, r.Values[c.identity[0]].String())
	default:
		id := make([]string, 0, len(c.identity)+1)
		id = append(id, c.spec.Dataset)
		for _, i := range c.identity {
			id = append(id, r.Values[i].String())
		}
		buf = c.appendHash(buf, id...)
	}
	spans = append(spans, span{start, len(buf)})
	addText(fr.Source)
	addText(fr.BatchID)
	start = len(buf)
	buf = strconv.AppendInt(buf, max(fr.Row, 0), 10)
	rowNo := span{start, len(buf)}
	spans = append(spans, rowNo)
	reqID := span{-1, -1}
	if route != RouteDWD {
		start = len(buf)
		buf = c.appendHash(buf, c.spec.Dataset, fr.Source, fr.BatchID, string(buf[rowNo.start:rowNo.end]))
		reqID = span{start, len(buf)}
	}
	if dirty {
		flags = append(flags, FlagDirtyFixed)
	}
	if mapped {
		flags = append(flags, FlagCodeMapped)
	}
	if unmapped {
		flags = append(flags, FlagUnmapped)
	}

	// One string for the generated bytes, one slice for the values and flags.
	gen := string(buf)
	strs := make([]string, len(spans)+len(flags))
	for i, sp := range spans {
		if sp.start < 0 {
			strs[i] = texts[sp.end]
		} else {
			strs[i] = gen[sp.start:sp.end]
		}
	}
	var names []string
	if wide {
		sc.names = append(wideNames, MetaIdentityKey, MetaSource, MetaBatchID, MetaRowNo)
		names = slices.Clone(sc.names)
	} else {
		names = c.names(sc, layout)
	}
	*out = Cleaned{Dataset: c.spec.Dataset, ReceivedAtMs: at.UnixMilli(), Route: route,
		Names: names, Values: strs[:len(spans):len(spans)]}
	if len(flags) > 0 {
		out.Flags = strs[len(spans):]
		copy(out.Flags, flags)
		slices.Sort(out.Flags)
	}
	if reqID.start >= 0 {
		out.RequestID = gen[reqID.start:reqID.end]
	}
	clear(texts)
	clear(flags)
	sc.buf, sc.spans, sc.texts, sc.flags = buf, spans, texts[:0], flags[:0]
}

// names returns the Names of a row of the given layout (bit i: field i has a value; bit 32+i:
// its region resolved) of a dataset of at most 32 fields, from the cache when it has them.
func (c *Cleaner) names(sc *scratch, layout uint64) []string {
	if n, ok := c.layouts.Load(layout); ok {
		return n.([]string)
	}
	names := sc.names[:0]
	for i := range c.out {
		if layout&(1<<i) != 0 {
			names = c.out[i].appendNames(names, layout&(1<<(32+i)) != 0)
		}
	}
	names = append(names, MetaIdentityKey, MetaSource, MetaBatchID, MetaRowNo)
	sc.names = names
	out := slices.Clone(names)
	if c.nLayout.Load() < maxLayouts {
		if n, loaded := c.layouts.LoadOrStore(layout, out); loaded {
			return n.([]string)
		}
		c.nLayout.Add(1)
	}
	return out
}

// text is a field value as the standard reads it: strings as they are, numbers in their JSON
// spelling, booleans as true/false, null as empty. Objects and arrays are not text.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64: // not from Clean's decoder; kept for callers that build records by hand
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}
