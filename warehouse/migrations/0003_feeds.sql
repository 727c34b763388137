-- Departmental and community feeds: the raw records the feeds gateway (ingest/feeds) accepted and
-- one manifest row per batch. The cleaning pipeline reads the records from Kafka
-- (citypulse.feeds.<dataset>.v1); these tables keep the raw form for audit, replays and
-- comparison. {db} is replaced with the quoted database name. Statements are separated by ";" at
-- a line end. Every statement must run on ClickHouse 18.16 and on current ClickHouse.

-- One row per record the gateway accepted, as the source sent it (raw is a JSON object keyed by
-- the source's own column names, before field mapping). A batch written twice (a lost insert
-- acknowledgement retried) collapses on merge: (dataset, source, batch_id, row_no) identifies a
-- record. Raw may hold personal data: this is the ods layer, not for analysts.
CREATE TABLE IF NOT EXISTS {db}.ods_feed_records (
    received_date Date,
    received_at   DateTime,
    batch_id      String,
    source        String,
    dataset       String,
    row_no        UInt64,
    raw           String
) ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(received_date)
ORDER BY (dataset, source, batch_id, row_no);

-- One row per batch (an API push or a file upload): who sent what, when, and what became of it.
-- It is also the usage log of exchanged data on the warehouse side (数据使用日志). status is "ok"
-- or "failed" (error says why); rejections holds the first rejected rows as "row N: reason".
-- A batch written twice collapses on merge (version is finished_at).
CREATE TABLE IF NOT EXISTS {db}.ods_feed_batches (
    received_date    Date,
    batch_id         String,
    source           String,
    dataset          String,
    kind             String,
    filename         String,
    format           String,
    charset          String,
    standard_version String,
    content_sha256   String,
    bytes            UInt64,
    rows_in          UInt64,
    rows_accepted    UInt64,
    rows_rejected    UInt64,
    rejections       Array(String),
    status           String,
    error            String,
    remote_addr      String,
    started_at       DateTime,
    finished_at      DateTime
) ENGINE = ReplacingMergeTree(finished_at)
PARTITION BY toYYYYMM(received_date)
ORDER BY (dataset, source, batch_id);
