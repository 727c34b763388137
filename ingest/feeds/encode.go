package feeds

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
)

// The gateway writes every accepted row twice as JSON (the feed record to Kafka, its fields raw
// to ods_feed_records). encoding/json spends most of that on reflection and on sorting map keys
// through reflect.Values; these appenders write the same bytes as json.Marshal (TestAppendJSON
// and FuzzAppendJSON hold them to it) for the values the readers produce, and hand anything
// unusual to json.Marshal itself.

// keyOrder remembers the sorted keys of the last object written: the rows of one body nearly
// always have the same columns, and checking that they still do is cheaper than sorting. The zero
// value is ready; a nil *keyOrder sorts every time.
type keyOrder struct{ keys []string }

// sorted returns m's keys in order.
func (o *keyOrder) sorted(m map[string]any) []string {
	if o != nil && len(o.keys) == len(m) {
		same := true
		for _, k := range o.keys {
			if _, ok := m[k]; !ok {
				same = false
				break
			}
		}
		if same {
			return o.keys
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if o != nil {
		o.keys = keys
	}
	return keys
}

// appendRecord appends json.Marshal(fr); fields and unmapped remember their key orders in the
// given keyOrders (nil: none).
func appendRecord(dst []byte, fr *feedrecord.Record, fields, unmapped *keyOrder) ([]byte, error) {
	dst = append(dst, `{"batch_id":`...)
	dst = appendString(dst, fr.BatchID)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, fr.Source)
	if fr.SourceKind != "" {
		dst = append(dst, `,"source_kind":`...)
		dst = appendString(dst, fr.SourceKind)
	}
	dst = append(dst, `,"dataset":`...)
	dst = appendString(dst, fr.Dataset)
	dst = append(dst, `,"row":`...)
	dst = strconv.AppendInt(dst, fr.Row, 10)
	dst = append(dst, `,"fields":`...)
	var err error
	if dst, err = appendObject(dst, fr.Fields, fields); err != nil {
		return nil, err
	}
	if len(fr.Unmapped) > 0 {
		dst = append(dst, `,"unmapped":`...)
		if dst, err = appendObject(dst, fr.Unmapped, unmapped); err != nil {
			return nil, err
		}
	}
	if fr.StandardVersion != "" {
		dst = append(dst, `,"standard_version":`...)
		dst = appendString(dst, fr.StandardVersion)
	}
	dst = append(dst, `,"received_at":`...)
	t, err := fr.ReceivedAt.MarshalJSON()
	if err != nil {
		return nil, err
	}
	dst = append(dst, t...)
	return append(dst, '}'), nil
}

// appendObject appends json.Marshal(m): keys sorted, null for a nil map.
func appendObject(dst []byte, m map[string]any, order *keyOrder) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	keys := order.sorted(m)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = appendValue(dst, m[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendValue appends json.Marshal(v).
func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(dst, x), nil
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case map[string]any:
		return appendObject(dst, x, nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// appendString appends s as json.Marshal writes it. Strings of plain characters are copied;
// anything encoding/json escapes (quotes, backslashes, control characters, <, >, &, U+2028,
// U+2029, invalid UTF-8) sends the string through json.Marshal.
func appendString(dst []byte, s string) []byte {
	if !plainString(s) {
		return appendMarshalled(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainByte[c] is false for the bytes a string must be checked at: those encoding/json escapes
// (below 0x20, ", \, <, >, &) and 0xE2, the first byte of U+2028 and U+2029.
var plainByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != 0xE2
	}
	return t
}()

// plainString reports whether json.Marshal writes s as it is between quotes: valid UTF-8 without
// a byte or character it escapes.
func plainString(s string) bool { return plainUTF8(s) && utf8.ValidString(s) }

// plainUTF8 is plainString for s known to be valid UTF-8. Bytes are looked at one by one,
// characters are not decoded.
func plainUTF8(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			// U+2028 and U+2029 are E2 80 A8 and E2 80 A9 (a cut sequence is invalid UTF-8).
			if s[i] != 0xE2 || i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8 {
				return false
			}
		}
	}
	return true
}

// appendUTF8 is appendString for s known to be valid UTF-8.
func appendUTF8(dst []byte, s string) []byte {
	if !plainUTF8(s) {
		return appendMarshalled(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func appendMarshalled(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}
