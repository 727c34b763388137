// Package cleaning is the feed cleaning pipeline (数据清洗): it reads bounded offset ranges of a
// dataset's feed topic (citypulse.feeds.<dataset>.v1, ingest/feeds/feedrecord JSON), validates and
// normalises every record against the data standard (warehouse/standard, judged as of the
// record's receive time so a re-read gives the same answer), derives the record's deterministic
// identity key (a keyed HMAC-SHA256 over the standard's identity fields), keeps personal numbers
// only as a keyed hash and a masked form, resolves the region to its four levels, labels each row
// with quality flags, and writes valid rows to the dataset's dwd_ table and every field error to
// ods_feed_quarantine. Nothing is dropped: a record that is not a readable feed record is
// quarantined with code "undecodable". Both tables collapse a record read twice (see
// warehouse/migrations/0004_cleaning.sql).
//
// The cleaning itself (Cleaner.Clean) is a pure function tested without a runner; a dataset is one
// entry of Specs (its dwd_ table and columns) plus its migration. It does not plan or commit Kafka
// offsets (the caller does that around a run), does not produce to Kafka, and does not own the
// standard's rules: it applies them.
package cleaning
