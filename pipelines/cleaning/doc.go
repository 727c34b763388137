// Package cleaning is the feed cleaning pipeline (数据清洗): it reads bounded offset ranges of a
// dataset's feed topic (citypulse.feeds.<dataset>.v1, ingest/feeds/feedrecord JSON), validates and
// normalises every record against the data standard (warehouse/standard, judged as of the
// record's receive time so a re-read gives the same answer), derives the record's deterministic
// identity key (a keyed HMAC-SHA256 over the standard's identity fields), keeps personal fields
// only as a keyed hash (joins), a masked form (analysts) and an AES-GCM encrypted value
// ("<key id>:" + base64(nonce||ciphertext), deterministic so a re-read writes the same bytes;
// Decrypt opens it for callers allowed to reveal), resolves the region to its four levels, labels
// each row with quality flags, and writes every field error to ods_feed_quarantine. Nothing is
// dropped: a record that is not a readable feed record is quarantined with code "undecodable".
// Every table it writes collapses a record read twice (ReplacingMergeTree).
//
// Routing of valid rows, by the record's source kind (feedrecord.Record.SourceKind; Spec.Route):
//   - community (or "", records from before kinds existed): loaded into dwd_<dataset>;
//   - department: loaded, except for a dataset whose Spec has Review (person_house: move-ins and
//     move-outs are reviewed by the community), whose rows are staged with purpose 'change';
//   - reference (any dataset): staged with purpose 'reference', for comparison, never loaded;
//   - any other kind: quarantined with code "source_kind".
//
// The staging contract (ods_staged_rows, warehouse/migrations/0007_personal_encryption.sql), which
// warehouse/review builds on — one row per staged record:
//   - purpose 'change' | 'reference'; dataset; source; batch_id; row_no as in the feed record;
//   - request_id: hex HMAC-SHA256 under the clean hash key of dataset, source, batch_id and row_no
//     (decimal), each followed by a zero byte (Cleaner.Hash): stable when the batch is re-read;
//   - identity_key: exactly what dwd_<dataset>.identity_key is for the same entity;
//   - region_code: the row's community code (empty for a dataset without a region field);
//   - row: a JSON object, dwd column name → the value the dwd row would hold, as a string,
//     without received_at and version: quality_flags a JSON array of strings; Date "YYYY-MM-DD";
//     DateTime "YYYY-MM-DD HH:MM:SS" in China Standard Time; UInt8 "1"/"0"; numbers in decimal
//     (floats in their shortest form); NULL as null; keys sorted. Personal fields appear only as
//     their *_hash, *_masked and *_enc values, as in dwd;
//   - received_at: the record's receive time; version: the same in Unix milliseconds.
//
// Spec.Stage (and Spec.RowJSON) give that row from a Cleaned row without a runner, so other
// packages' tests can produce exactly what the pipeline stages: Cleaner.Clean a record, then
// Stage it.
//
// The pipeline (Build) moves records in batches, one element per 1,024 records, cleaned on as many
// goroutines as there are cores while the next batch is read and the one before is written; the
// per-element and per-stage costs of the runner are paid per batch, not per record.
//
// The cleaning itself (Cleaner.Clean) is a pure function tested without a runner; a dataset is one
// entry of Specs (its dwd_ table and columns) plus its migration. It does not plan or commit Kafka
// offsets (the caller does that around a run), does not produce to Kafka, does not decide change
// requests (warehouse/review does), and does not own the standard's rules: it applies them.
package cleaning
