-- Bad events: every dead letter of citypulse.events.dlq.v1 (events the collector or the events
-- pipeline refused, with the reason), written by the bad-events pipeline (pipelines/deadletters)
-- and read by the plan-violation report (GET /api/v1/tracking/violations).
-- {db} is replaced with the quoted database name. Statements are separated by ";" at a line end.
-- Every statement must run on ClickHouse 18.16 and on current ClickHouse (ARCHITECTURE.md).

-- One row per dead letter. source is the app the request's write key is bound to: the write key
-- itself is a secret (anyone holding it can send as that app), so it is never stored, here or
-- anywhere else in the warehouse. dedupe_key is the client's message_id when the dead letter has
-- one, else "sha256:" + hex of (raw, received_at, batch index); with the rest of the sort key it
-- identifies a dead letter, so re-reading the DLQ (or a client resending the same bad event the
-- same day) collapses on merge. Readers that need exact counts use FINAL. code "undecodable" is a
-- DLQ record that was not a dead letter at all; raw then holds the record's value as read.
CREATE TABLE IF NOT EXISTS {db}.ods_bad_events (
    event_date   Date,
    received_at  DateTime,
    source       String,
    message_id   String,
    dedupe_key   String,
    event        String,
    code         String,
    rule         String,
    field        String,
    reason       String,
    batch_index  UInt32,
    raw          String,
    loaded_at    DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
PARTITION BY toYYYYMM(event_date)
ORDER BY (event_date, source, code, rule, field, dedupe_key);
