// Package formats turns a feed body or file into a stream of records, one at a time with flat
// memory: CSV (UTF-8 or GBK/GB18030, declared or detected, header row naming the columns), JSON
// lines (one object a line), Parquet (parquet-go) and Arrow IPC, file or stream format (arrow-go).
// A record is the source's own column names with their values; a row that cannot be parsed (wrong
// column count, bad encoding, not a JSON object) is reported as a *RowError and reading goes on.
// It does not know sources, mappings, data standards, HTTP or Kafka: the gateway maps names and
// ships records; validation of values belongs to the cleaning pipeline.
package formats
