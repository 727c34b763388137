-- Per-minute metrics of the streaming minute pipeline (pipelines/minute). {db} is replaced with
-- the quoted database name. Statements are separated by ";" at a line end. Every statement must
-- run on ClickHouse 18.16 and on current ClickHouse (ARCHITECTURE.md).
--
-- How the numbers stay exact: the pipeline inserts an event into dwd_minute_events only after
-- checking that its (minute, message_id) is not there yet, so duplicates and records re-read
-- after a restart are never inserted twice; the materialized views below then add each event
-- once to the aggregates. First-seen changes are written as +1/-1 pairs after the same kind of
-- check. Aggregates are states (sum, uniqCombined, min/max/argMin), merged at read, so minutes
-- roll up into hours and days.

-- One row per distinct (minute, message_id) the minute pipeline has read: the slim detail the
-- views aggregate. regions holds the event's region code at every level, city first (the
-- community code last), or [''] when the event has no region.
CREATE TABLE IF NOT EXISTS {db}.dwd_minute_events (
    minute      DateTime,
    event_time  DateTime,
    message_id  String,
    type        String,
    user_key    String,
    session_id  String,
    regions     Array(String),
    service_id  UInt32,
    app         String,
    loaded_at   DateTime
) ENGINE = ReplacingMergeTree(loaded_at)
PARTITION BY toYYYYMM(minute)
ORDER BY (minute, message_id);

-- Per minute, region (each of the four levels: a row per level's code; '' for events without a
-- region), service and app. Read with sumMerge / uniqCombinedMerge, and uniqCombinedIfMerge for
-- sessions (an -If state, so one view can skip events without a session), grouped as needed.
-- new_users is the net count of users whose first event falls in the minute at these keys.
CREATE TABLE IF NOT EXISTS {db}.dws_minute_metrics (
    minute      DateTime,
    region_code String,
    level       String,
    service_id  UInt32,
    app         String,
    page_views  AggregateFunction(sum, UInt64),
    events      AggregateFunction(sum, UInt64),
    users       AggregateFunction(uniqCombined, String),
    new_users   AggregateFunction(sum, Int64),
    sessions    AggregateFunction(uniqCombinedIf, String, UInt8)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (region_code, level, minute, service_id, app);

-- A user's first event (user_key as in dwd_events: user id, else anonymous id), as a log of
-- +1 (becomes the first event) and -1 (no longer is: an earlier event arrived) rows; the live
-- first event has sum(sign) = 1. Retractions collapse with their +1 on merge.
CREATE TABLE IF NOT EXISTS {db}.dws_user_first_seen (
    user_key    String,
    first_time  DateTime,
    message_id  String,
    regions     Array(String),
    service_id  UInt32,
    app         String,
    sign        Int8,
    recorded_at DateTime
) ENGINE = CollapsingMergeTree(sign)
ORDER BY (user_key, first_time, message_id);

-- Per session and day of its events: first and last event time and the first event's region
-- (community code), service and app. Merge by session_id across days; median session length
-- is computed from it at read.
CREATE TABLE IF NOT EXISTS {db}.dws_minute_sessions (
    day           Date,
    session_id    String,
    started       AggregateFunction(min, DateTime),
    ended         AggregateFunction(max, DateTime),
    first_region  AggregateFunction(argMin, String, UInt64),
    first_service AggregateFunction(argMin, UInt32, UInt64),
    first_app     AggregateFunction(argMin, String, UInt64)
) ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, session_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_minute_events TO {db}.dws_minute_metrics AS
SELECT minute, region_code,
    multiIf(region_code = '', '', substring(region_code, 5) = '00000000', 'city', substring(region_code, 7) = '000000', 'district', substring(region_code, 10) = '000', 'street', 'community') AS level,
    service_id, app,
    sumState(toUInt64(type IN ('page', 'screen'))) AS page_views,
    sumState(toUInt64(1)) AS events,
    uniqCombinedState(user_key) AS users,
    sumState(toInt64(0)) AS new_users,
    uniqCombinedIfState(session_id, session_id != '') AS sessions
FROM {db}.dwd_minute_events
ARRAY JOIN regions AS region_code
GROUP BY minute, region_code, level, service_id, app;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_minute_new_users TO {db}.dws_minute_metrics AS
SELECT toStartOfMinute(first_time) AS minute, region_code,
    multiIf(region_code = '', '', substring(region_code, 5) = '00000000', 'city', substring(region_code, 7) = '000000', 'district', substring(region_code, 10) = '000', 'street', 'community') AS level,
    service_id, app,
    sumState(toUInt64(0)) AS page_views,
    sumState(toUInt64(0)) AS events,
    arrayReduce('uniqCombinedState', emptyArrayString()) AS users,
    sumState(toInt64(sign)) AS new_users,
    arrayReduce('uniqCombinedIfState', emptyArrayString(), emptyArrayUInt8()) AS sessions
FROM {db}.dws_user_first_seen
ARRAY JOIN regions AS region_code
GROUP BY minute, region_code, level, service_id, app;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_minute_sessions TO {db}.dws_minute_sessions AS
SELECT toDate(minute) AS day, session_id,
    minState(event_time) AS started,
    maxState(event_time) AS ended,
    argMinState(regions[length(regions)], toUInt64(event_time) * 1000000 + cityHash64(message_id) % 1000000) AS first_region,
    argMinState(service_id, toUInt64(event_time) * 1000000 + cityHash64(message_id) % 1000000) AS first_service,
    argMinState(app, toUInt64(event_time) * 1000000 + cityHash64(message_id) % 1000000) AS first_app
FROM {db}.dwd_minute_events
WHERE session_id != ''
GROUP BY day, session_id;
