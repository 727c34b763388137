-- The feeds gateway's part of the metadata store: sources (departments and community offices)
-- with their HMAC secrets, the datasets each may send with its field mapping, the nonces of
-- accepted requests (replay protection shared by every gateway replica) and the usage log of
-- exchanged data (数据使用日志). Times are Unix seconds.

CREATE TABLE feed_sources (
    id          TEXT    NOT NULL PRIMARY KEY, -- what X-CityPulse-Source carries
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,             -- department | community
    region_code TEXT    NOT NULL,             -- '' for city-wide departments
    disabled    INTEGER NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- HMAC secrets. A secret must be known to verify a signature, so it is stored as issued: guard
-- the metadata store like a key store. At most two are active (revoked_at = 0) at a time, so a
-- source can rotate without downtime.
CREATE TABLE feed_source_keys (
    source_id  TEXT   NOT NULL REFERENCES feed_sources (id),
    key_id     TEXT   NOT NULL,
    secret     TEXT   NOT NULL, -- hex
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    PRIMARY KEY (source_id, key_id)
);

-- The datasets a source may send, with the mapping of its column names to standard field names
-- (JSON object) and the standard field, if any, whose value keys its Kafka records.
CREATE TABLE feed_source_datasets (
    source_id    TEXT NOT NULL REFERENCES feed_sources (id),
    dataset      TEXT NOT NULL,
    mapping_json TEXT NOT NULL,
    key_field    TEXT NOT NULL,
    PRIMARY KEY (source_id, dataset)
);

-- Nonces of accepted requests, until their timestamp leaves the replay window.
CREATE TABLE feed_nonces (
    source_id TEXT   NOT NULL,
    nonce     TEXT   NOT NULL,
    ts        BIGINT NOT NULL,
    PRIMARY KEY (source_id, nonce)
);
CREATE INDEX feed_nonces_ts ON feed_nonces (ts);

-- One entry per batch a source pushed or uploaded: who sent what, when, and the outcome.
CREATE TABLE feed_usage_log (
    batch_id      TEXT   NOT NULL PRIMARY KEY,
    at            BIGINT NOT NULL,
    source_id     TEXT   NOT NULL,
    dataset       TEXT   NOT NULL,
    action        TEXT   NOT NULL, -- push | upload
    filename      TEXT   NOT NULL,
    remote_addr   TEXT   NOT NULL,
    rows_in       BIGINT NOT NULL,
    rows_accepted BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    status        TEXT   NOT NULL,
    detail        TEXT   NOT NULL
);
CREATE INDEX feed_usage_log_source ON feed_usage_log (source_id, at);
