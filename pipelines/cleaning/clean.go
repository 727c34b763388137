package cleaning

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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
// the meta values, as parallel Names and Values.
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
}

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
	return c, nil
}

// Hash is the keyed hash (HMAC-SHA256, hex) of the parts, each followed by a zero byte.
func (c *Cleaner) Hash(parts ...string) string {
	m := c.macs.get()
	defer c.macs.put(m)
	for _, p := range parts {
		m.WriteString(p)
		m.Write(zero[:])
	}
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], m.Sum(sum[:0]))
	return string(out[:])
}

// Clean turns one Kafka record into either a valid row or its quarantine rows (at least one). It
// never fails and is deterministic: the standard judges the record as of its receive time (the
// record's timestamp when the feed record has none).
func (c *Cleaner) Clean(rec kafkaio.Record) (*Cleaned, []Quarantined) {
	recAt := time.UnixMilli(rec.TimestampMs)
	d, err := decodeRecord(rec.Value)
	fr := d.fr
	if err == nil && fr.Dataset != c.spec.Dataset {
		err = fmt.Errorf("dataset %q, want %q", fr.Dataset, c.spec.Dataset)
	}
	if err != nil {
		return nil, []Quarantined{{Dataset: c.spec.Dataset, BatchID: fmt.Sprintf("kafka:%s[%d]@%d", rec.Topic, rec.Partition, rec.Offset),
			Code: CodeUndecodable, Reason: fmt.Sprintf("not a readable feed record: %v", err), Raw: string(rec.Value), ReceivedAtMs: recAt.UnixMilli()}}
	}
	at := fr.ReceivedAt
	if at.IsZero() || at.Unix() < 0 || at.After(maxTime) { // ClickHouse DateTime ends in 2106
		at = recAt
	}
	fields, errs := d.fields, d.errs
	norm, ferrs := c.ds.ValidateRecordAt(fields, at)
	errs = append(errs, ferrs...)
	route, ok := c.spec.Route(fr.SourceKind)
	if !ok {
		errs = append(errs, standard.FieldError{Field: "source_kind", Code: CodeSourceKind,
			Reason: fmt.Sprintf("source kind %q is not %s, %s or %s", fr.SourceKind, SourceCommunity, SourceDepartment, SourceReference)})
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		q := make([]Quarantined, 0, len(errs))
		seen := map[[2]string]bool{}
		for _, e := range errs {
			if seen[[2]string{e.Field, e.Code}] {
				continue
			}
			seen[[2]string{e.Field, e.Code}] = true
			q = append(q, Quarantined{Dataset: c.spec.Dataset, Source: fr.Source, BatchID: fr.BatchID, RowNo: fr.Row,
				Field: e.Field, Code: e.Code, Detail: e.Detail, Reason: e.Reason, Raw: string(rec.Value), ReceivedAtMs: at.UnixMilli()})
		}
		return nil, q
	}
	return c.valid(fr, d.unmapped, fields, norm, at, route), nil
}

// valid builds the Cleaned row of a record the standard accepted.
func (c *Cleaner) valid(fr feedrecord.Record, unmapped bool, raw map[string]string, norm map[string]any, at time.Time, route string) *Cleaned {
	n := len(c.ds.Fields) + 12
	out := &Cleaned{Dataset: c.spec.Dataset, ReceivedAtMs: at.UnixMilli(), Route: route,
		Names: make([]string, 0, n), Values: make([]string, 0, n)}
	add := func(n, v string) { out.Names = append(out.Names, n); out.Values = append(out.Values, v) }
	var dirty, mapped bool
	for _, f := range c.ds.Fields {
		v, ok := norm[f.Name]
		if !ok {
			continue
		}
		s := format(v)
		r, given := raw[f.Name]
		switch {
		case !given || r == "":
			if f.DerivedFrom != "" {
				out.Flags = append(out.Flags, FlagDerived+f.Name)
			}
		case f.Type == standard.TypeCode && r != s:
			mapped = true
		case r != s:
			dirty = true
		}
		if p, ok := c.protect[f.Name]; ok {
			add(p.hash, c.Hash(p.domain, s))
			add(p.masked, p.mask(s))
			add(p.enc, c.seal.seal(f.Name, s))
		} else {
			add(f.Name, s)
		}
		if f.Format == standard.FormatRegionCode {
			if r, err := c.std.Regions().Lookup(s); err == nil {
				l := c.levels[f.Name]
				add(l[0], r.City)
				add(l[1], r.District)
				add(l[2], r.Street)
				add(l[3], r.Community)
			}
		}
	}
	id := make([]string, 0, len(c.ds.Identity)+1)
	id = append(id, c.spec.Dataset)
	for _, f := range c.ds.Identity {
		id = append(id, format(norm[f]))
	}
	rowNo := strconv.FormatInt(max(fr.Row, 0), 10)
	add(MetaIdentityKey, c.Hash(id...))
	add(MetaSource, fr.Source)
	add(MetaBatchID, fr.BatchID)
	add(MetaRowNo, rowNo)
	if route != RouteDWD {
		out.RequestID = c.Hash(c.spec.Dataset, fr.Source, fr.BatchID, rowNo)
	}
	if dirty {
		out.Flags = append(out.Flags, FlagDirtyFixed)
	}
	if mapped {
		out.Flags = append(out.Flags, FlagCodeMapped)
	}
	if unmapped {
		out.Flags = append(out.Flags, FlagUnmapped)
	}
	sort.Strings(out.Flags)
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

// format is a normalised value as text.
func format(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
