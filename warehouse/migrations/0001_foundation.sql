-- Foundation schema: dimensions, clean event detail and the daily aggregate the API reads.
-- {db} is replaced with the quoted database name. Statements are separated by ";" at a line end.
-- Every statement must run on ClickHouse 18.16 and on current ClickHouse (ARCHITECTURE.md).

CREATE TABLE IF NOT EXISTS {db}.dim_region (
    code        String,
    name        String,
    level       String,
    parent_code String,
    city_code   String,
    loaded_at   DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY code;

CREATE TABLE IF NOT EXISTS {db}.dim_service (
    service_id UInt32,
    name       String,
    category   String,
    loaded_at  DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY service_id;

-- One row per accepted event after cleaning. Re-delivered events (same message_id) collapse on
-- merge; readers that need exact counts use FINAL.
CREATE TABLE IF NOT EXISTS {db}.dwd_events (
    event_date   Date,
    event_time   DateTime,
    received_at  DateTime,
    message_id   String,
    type         String,
    event        String,
    user_id      String,
    anonymous_id String,
    user_key     String,
    session_id   String,
    region_code  String,
    service_id   UInt32,
    source       String,
    app          String,
    os           String,
    device       String,
    properties   String,
    loaded_at    DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
PARTITION BY toYYYYMM(event_date)
ORDER BY (event_date, region_code, message_id);

-- Daily aggregate per community and service, recomputed whole for every day a pipeline run
-- touches (so a rerun replaces, never adds). users holds uniqCombined states, mergeable across
-- regions, services and days.
CREATE TABLE IF NOT EXISTS {db}.dws_region_service_daily (
    event_date  Date,
    region_code String,
    service_id  UInt32,
    page_views  UInt64,
    events      UInt64,
    users       AggregateFunction(uniqCombined, String),
    computed_at DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(event_date)
ORDER BY (event_date, region_code, service_id);
