package deadletters

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// CodeUndecodable is the code of a DLQ record that is not a readable dead letter (not JSON, not
// an object, or without a code). Its raw column holds the record's value as read.
const CodeUndecodable = "undecodable"

// Limits, in bytes, on the text columns a client can influence; raw is kept whole (the collector
// already bounds it to event.MaxEventBytes).
const (
	maxLabelBytes  = 256
	maxReasonBytes = 4096
)

// Row is one ods_bad_events row. ReceivedAt is in Unix seconds; EventDate is its local date
// (YYYY-MM-DD) in the pipeline's time zone.
type Row struct {
	EventDate  string
	ReceivedAt int64
	Source     string
	MessageID  string
	DedupeKey  string
	Event      string
	Code       string
	Rule       string
	Field      string
	Reason     string
	BatchIndex uint32
	Raw        string
}

// Columns are the ods_bad_events columns in the order Values returns them.
var Columns = []string{"event_date", "received_at", "source", "message_id", "dedupe_key", "event",
	"code", "rule", "field", "reason", "batch_index", "raw", "loaded_at"}

// Values returns the row as column values for Columns, with loadedAt as loaded_at.
func (r Row) Values(loc *time.Location, loadedAt time.Time) ([]any, error) {
	day, err := time.ParseInLocation(time.DateOnly, r.EventDate, time.UTC)
	if err != nil {
		return nil, fmt.Errorf("event_date %q: %w", r.EventDate, err)
	}
	return []any{day, time.Unix(r.ReceivedAt, 0).In(loc), r.Source, r.MessageID, r.DedupeKey, r.Event,
		r.Code, r.Rule, r.Field, r.Reason, r.BatchIndex, r.Raw, loadedAt}, nil
}

// DateTime bounds: ClickHouse DateTime holds 1970 to 2106; times outside [minTime, maxTime] are
// not believed.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// FromRecord turns one DLQ record into a row; it never fails. A readable dead letter gives its
// fields (the event name, when the dead letter has none, is taken from the raw event). Anything
// else gives a CodeUndecodable row whose raw is the record's value and whose reason says where it
// was and why it was not read. The receive time is the dead letter's, else the record's timestamp.
func FromRecord(rec kafkaio.Record, loc *time.Location) Row {
	recTime := time.UnixMilli(rec.TimestampMs)
	var dl event.DeadLetter
	err := json.Unmarshal(rec.Value, &dl)
	if err == nil && dl.Code == "" {
		err = fmt.Errorf("no code: not a dead letter")
	}
	if err != nil {
		at := believable(recTime, minTime)
		r := Row{
			ReceivedAt: at.Unix(),
			EventDate:  at.In(loc).Format(time.DateOnly),
			Code:       CodeUndecodable,
			Reason:     clip(fmt.Sprintf("DLQ record %s[%d]@%d is not a readable dead letter: %v", rec.Topic, rec.Partition, rec.Offset, err), maxReasonBytes),
			Raw:        string(rec.Value),
		}
		r.DedupeKey = hashKey([]byte(r.Raw), fmt.Sprintf("%s[%d]@%d", rec.Topic, rec.Partition, rec.Offset), 0)
		return r
	}
	at := believable(dl.ReceivedAt, believable(recTime, minTime))
	raw := string(dl.Raw)
	if raw == "null" {
		raw = ""
	}
	r := Row{
		ReceivedAt: at.Unix(),
		EventDate:  at.In(loc).Format(time.DateOnly),
		Source:     clip(dl.Source, maxLabelBytes),
		MessageID:  clip(dl.MessageID, maxLabelBytes),
		Event:      clip(dl.Event, maxLabelBytes),
		Code:       clip(dl.Code, maxLabelBytes),
		Rule:       clip(dl.Rule, maxLabelBytes),
		Field:      clip(dl.Field, maxLabelBytes),
		Reason:     clip(dl.Reason, maxReasonBytes),
		BatchIndex: uint32(min(max(dl.Index, 0), math.MaxUint32)),
		Raw:        raw,
	}
	if r.Event == "" {
		r.Event = clip(eventName(dl.Raw), maxLabelBytes)
	}
	r.DedupeKey = r.MessageID
	if r.DedupeKey == "" {
		r.DedupeKey = hashKey(dl.Raw, dl.ReceivedAt.UTC().Format(time.RFC3339Nano), r.BatchIndex)
	}
	return r
}

// believable returns t when ClickHouse can hold it and it is not zero, else fallback.
func believable(t, fallback time.Time) time.Time {
	if t.IsZero() || t.Before(minTime) || t.After(maxTime) {
		return fallback
	}
	return t
}

// hashKey identifies a dead letter without a message id: "sha256:" and the hex digest of raw,
// when and index.
func hashKey(raw []byte, when string, index uint32) string {
	h := sha256.New()
	h.Write(raw)
	h.Write([]byte{0})
	h.Write([]byte(when))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], index)
	h.Write(b[:])
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// eventName guesses the event name of a raw event the way the events pipeline names rows: a
// track's "event", a page's or screen's "name", else its type. It returns "" when raw is not an
// object or has none of them.
func eventName(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return ""
	}
	var e struct {
		Type  any `json:"type"`
		Event any `json:"event"`
		Name  any `json:"name"`
	}
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	str := func(v any) string { s, _ := v.(string); return strings.TrimSpace(s) }
	typ := strings.ToLower(str(e.Type))
	switch {
	case str(e.Event) != "":
		return str(e.Event)
	case (typ == event.TypePage || typ == event.TypeScreen) && str(e.Name) != "":
		return str(e.Name)
	}
	return typ
}

// clip makes s valid UTF-8 and cuts it to at most n bytes at a rune boundary.
func clip(s string, n int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
