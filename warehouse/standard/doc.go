// Package standard is CityPulse's declared data standard (数据标准体系) for departmental feeds and
// community data: one versioned YAML file per dataset (datasets/*.yaml: fields with type, required,
// format, code table, sensitivity grade; the identity key used for de-duplication) and one per code
// table (codetables/*.yaml), embedded in the binary. Load decodes them strictly (unknown keys are
// errors), checks the standard itself (every error names the file and the path inside it) and
// returns an immutable Standard whose datasets validate and normalise records
// (Dataset.ValidateRecord) with the field validators of standard/validate. It also renders
// docs/data-standard.md (Markdown), so the documentation is generated, never written by hand.
//
// It does no I/O beyond its embedded files, keeps no mutable state and knows nothing of Kafka,
// ClickHouse or the metadata store: the feeds gateway, the cleaning pipeline and the quality scores
// call it.
//
// Normalised values: string → string (cleaned text or the format's canonical form), code → the
// code (labels and aliases are mapped), int → int64, decimal → float64, bool → bool, date →
// "YYYY-MM-DD", datetime → "YYYY-MM-DD HH:MM:SS" in China Standard Time. Empty optional fields are
// absent from the result.
package standard

//go:generate go test -run TestDataStandardDoc -update
