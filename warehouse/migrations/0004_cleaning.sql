-- Cleaning pipeline (pipelines/cleaning): clean community entities (dwd_person) and the feed
-- records it refused (ods_feed_quarantine), field by field. {db} is replaced with the quoted
-- database name. Statements are separated by ";" at a line end. Every statement must run on
-- ClickHouse 18.16 and on current ClickHouse (ARCHITECTURE.md).

-- One row per person, whatever source reported them: identity_key is the keyed hash
-- (HMAC-SHA256, hex) of the dataset and the normalised resident ID, so the same person from two
-- sources, or a batch read twice, collapses on merge; the newest receive time (version, Unix ms)
-- wins. No PARTITION BY: a person must collapse whenever they were received. The resident ID and
-- the mobile number are never stored in clear: *_hash is the keyed hash of the normalised value
-- (for joins), *_masked the form analysts see (510104********1234, 138****5678). Region columns
-- are the community and its three parents. quality_flags label what cleaning did (dirty_fixed,
-- code_mapped, derived:<field>, unmapped_columns). Readers use FINAL.
CREATE TABLE IF NOT EXISTS {db}.dwd_person (
    identity_key     String,
    id_card_hash     String,
    id_card_masked   String,
    name             String,
    gender           String,
    birth_date       Date,
    ethnicity        String,
    marital_status   String,
    mobile_hash      String,
    mobile_masked    String,
    residence_status String,
    region_code      String,
    city_code        String,
    district_code    String,
    street_code      String,
    community_code   String,
    address          String,
    hukou_address    String,
    registered_at    Nullable(DateTime),
    source           String,
    batch_id         String,
    row_no           UInt64,
    quality_flags    Array(String),
    received_at      DateTime,
    version          UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY identity_key;

-- One row per field error of a feed record the cleaning pipeline refused (code and field as in
-- warehouse/standard FieldError), and one row with code "undecodable" (field "") per Kafka record
-- that was no readable feed record; its batch_id is then "kafka:<topic>[<partition>]@<offset>".
-- raw is the Kafka record's value as read (it may hold personal data: ods layer, not for
-- analysts). A record read twice collapses on merge.
CREATE TABLE IF NOT EXISTS {db}.ods_feed_quarantine (
    received_date Date,
    received_at   DateTime,
    dataset       String,
    source        String,
    batch_id      String,
    row_no        UInt64,
    field         String,
    code          String,
    detail        String,
    reason        String,
    raw           String,
    loaded_at     DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
PARTITION BY toYYYYMM(received_date)
ORDER BY (dataset, source, batch_id, row_no, field, code);
