// Package validate holds the field validators of the CityPulse data standard: the resident ID
// number (GB 11643-1999, with 15 → 18 digit upgrade), China mobile numbers, the unified social
// credit code (GB 32100-2015), dates and date-times, 12-digit statistical region codes (against the
// embedded region data of warehouse/dimdata) and free-text cleaning (full-width folding, whitespace,
// control characters, UTF-8 validity).
//
// Every validator is a pure function of its input (plus an explicit "as of" time where the rule
// depends on today): it returns the normalised value or an *Error whose Kind is a stable,
// machine-readable reason (checksum, length, charset, …) and whose Reason is a sentence for people.
// The package does no I/O beyond the embedded region data, keeps no mutable state, and knows
// nothing of datasets or records: the standard package decides which validator a field uses.
// Transcoding (GBK, GB18030 → UTF-8) is the feeds gateway's job; here invalid UTF-8 is an error.
package validate
