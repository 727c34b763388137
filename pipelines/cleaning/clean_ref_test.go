package cleaning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse/standard"
)

// This file keeps Clean as it was before the positional fast path (encoding/json into a map,
// standard.ValidateRecordAt, the row built by name) as the reference that FuzzClean holds Clean to.

// decodeRefMap is the reference decoder: encoding/json with numbers kept as their literal text,
// fields as a map.
func decodeRefMap(value []byte) (fr feedrecord.Record, fields map[string]string, unmapped bool, errs []standard.FieldError, err error) {
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	err = dec.Decode(&fr)
	if err == nil && dec.More() {
		err = fmt.Errorf("more than one JSON value")
	}
	if err != nil {
		return feedrecord.Record{}, nil, false, nil, err
	}
	fields = make(map[string]string, len(fr.Fields))
	for k, v := range fr.Fields {
		s, ok := text(v)
		if !ok {
			errs = append(errs, standard.FieldError{Field: k, Code: standard.CodeType, Reason: "a nested value, want text or a number"})
			continue
		}
		fields[k] = s
	}
	unmapped = len(fr.Unmapped) > 0
	fr.Fields, fr.Unmapped = nil, nil
	return fr, fields, unmapped, errs, nil
}

// cleanRef is the reference Clean.
func (c *Cleaner) cleanRef(rec kafkaio.Record) (*Cleaned, []Quarantined) {
	recAt := time.UnixMilli(rec.TimestampMs)
	fr, fields, unmapped, errs, err := decodeRefMap(rec.Value)
	if err == nil && fr.Dataset != c.spec.Dataset {
		err = fmt.Errorf("dataset %q, want %q", fr.Dataset, c.spec.Dataset)
	}
	if err != nil {
		return nil, []Quarantined{{Dataset: c.spec.Dataset, BatchID: fmt.Sprintf("kafka:%s[%d]@%d", rec.Topic, rec.Partition, rec.Offset),
			Code: CodeUndecodable, Reason: fmt.Sprintf("not a readable feed record: %v", err), Raw: string(rec.Value), ReceivedAtMs: recAt.UnixMilli()}}
	}
	at := fr.ReceivedAt
	if at.IsZero() || at.Unix() < 0 || at.After(maxTime) {
		at = recAt
	}
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
	return c.validRef(fr, unmapped, fields, norm, at, route), nil
}

// validRef is the reference row builder.
func (c *Cleaner) validRef(fr feedrecord.Record, unmapped bool, raw map[string]string, norm map[string]any, at time.Time, route string) *Cleaned {
	out := &Cleaned{Dataset: c.spec.Dataset, ReceivedAtMs: at.UnixMilli(), Route: route}
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
		if mask, ok := c.spec.Protect[f.Name]; ok {
			domain := f.Format
			if domain == "" {
				domain = f.Name
			}
			add(f.Name+"_hash", c.Hash(domain, s))
			add(f.Name+"_masked", mask(s))
			add(f.Name+"_enc", c.seal.seal(f.Name, s))
		} else {
			add(f.Name, s)
		}
		if f.Format == standard.FormatRegionCode {
			if r, err := c.std.Regions().Lookup(s); err == nil {
				add(f.Name+".city", r.City)
				add(f.Name+".district", r.District)
				add(f.Name+".street", r.Street)
				add(f.Name+".community", r.Community)
			}
		}
	}
	id := []string{c.spec.Dataset}
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

// format is a normalised value (of ValidateRecordAt's map) as text.
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
