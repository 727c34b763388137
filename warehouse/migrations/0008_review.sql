-- Community review of departments' change requests (warehouse/review): one decision per staged
-- change (ods_staged_rows, purpose 'change'). {db} is replaced with the quoted database name.
-- Statements are separated by ";" at a line end. Every statement must run on ClickHouse 18.16 and
-- on current ClickHouse (ARCHITECTURE.md).

-- One row per decided change request. A request without a row here is pending. decision is
-- 'approved' (the proposed row was written to dwd_<dataset> with version = decided_at in Unix ms)
-- or 'rejected' (comment says why). kind is what the change was when it was decided (move_in,
-- move_out, update). reviewer is who decided, as the API caller named them (there is no
-- authentication yet). review writes one row per request; a retried insert collapses on merge
-- (version is decided_at in Unix ms). Readers use FINAL.
CREATE TABLE IF NOT EXISTS {db}.ods_change_decisions (
    request_id String,
    dataset    String,
    decision   String,
    kind       String,
    reviewer   String,
    comment    String,
    decided_at DateTime,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY request_id;
