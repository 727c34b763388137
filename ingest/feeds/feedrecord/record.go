// Package feedrecord is the wire format of citypulse.feeds.<dataset>.v1: one JSON Record per row
// the feeds gateway accepted. It is its own small package so that the cleaning pipeline can decode
// records without importing the gateway. It must not grow behaviour beyond encoding.
package feedrecord

import "time"

// Record is one accepted row of a feed batch, after field mapping and before any validation.
type Record struct {
	BatchID string `json:"batch_id"`
	Source  string `json:"source"`
	// SourceKind is the source's kind when the gateway accepted the row: department, community
	// or reference (ingest/feeds Kind*). The cleaning pipeline routes on it: a department's rows
	// of a reviewed dataset become change requests, a reference source's rows are compared,
	// never loaded. Records written before the field existed have "" (treated as community).
	SourceKind string `json:"source_kind,omitempty"`
	Dataset    string `json:"dataset"`
	// Row is the row's 1-based ordinal in the batch (see ingest/feeds/formats.Record.Row).
	Row int64 `json:"row"`
	// Fields are the values under standard field names (the source's mapping applied).
	Fields map[string]any `json:"fields"`
	// Unmapped are the columns the mapping does not name, under the source's own names.
	Unmapped map[string]any `json:"unmapped,omitempty"`
	// StandardVersion is the data standard version the source declared ("" when none).
	StandardVersion string    `json:"standard_version,omitempty"`
	ReceivedAt      time.Time `json:"received_at"`
}
