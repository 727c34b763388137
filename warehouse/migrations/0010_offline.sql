-- Daily aggregates of the offline engine (pipelines/offline: Beam batch jobs over dwd_events and
-- over each other, scheduled by pipelines/scheduler). {db} is replaced with the quoted database
-- name. Statements are separated by ";" at a line end. Every statement must run on ClickHouse
-- 18.16 and on current ClickHouse (ARCHITECTURE.md).
--
-- Each table is partitioned by its day. A job run computes one day into a staging copy of the
-- table and swaps it in (ALTER TABLE … DROP PARTITION, then ATTACH PARTITION … FROM the copy), so
-- a rerun or a backfill replaces the day whole (keys that vanished go too) and readers never see
-- half a day. The engines are ReplacingMergeTree(computed_at) keyed by the day's keys, so rows a
-- retried bundle wrote twice collapse (the staging copy is optimized before the swap; FINAL is
-- exact in any case).
-- Sessions are (user_key, session_id) pairs with a session id; dwell time is the span from a
-- session's first to its last event of the day.

-- One row per user (user_key: user id, else anonymous id) and day.
CREATE TABLE IF NOT EXISTS {db}.dws_user_daily (
    event_date    Date,
    user_key      String,
    user_id       String,
    region_code   String,
    events        UInt64,
    page_views    UInt64,
    sessions      UInt64,
    dwell_seconds UInt64,
    services      Array(UInt32),
    first_time    DateTime,
    last_time     DateTime,
    computed_at   DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY event_date
ORDER BY (event_date, user_key);

-- A user's first day with events, as min states added by every user_daily run (order-free and
-- idempotent). Read with minMerge(first_day) grouped by user_key.
CREATE TABLE IF NOT EXISTS {db}.dws_user_first_day (
    user_key  String,
    first_day AggregateFunction(min, Date)
) ENGINE = AggregatingMergeTree()
ORDER BY user_key;

-- Per day and region at every level (city, district, street, community; '' for users without a
-- region): each user counts once, in the region of their first event of the day that had one.
-- visit_depth = page_views / sessions; avg_dwell_seconds = dwell_seconds / sessions (0 without
-- sessions).
CREATE TABLE IF NOT EXISTS {db}.dws_region_daily (
    event_date        Date,
    region_code       String,
    level             String,
    users             UInt64,
    new_users         UInt64,
    events            UInt64,
    page_views        UInt64,
    sessions          UInt64,
    dwell_seconds     UInt64,
    visit_depth       Float64,
    avg_dwell_seconds Float64,
    computed_at       DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY event_date
ORDER BY (event_date, region_code);

-- Per day and service (events with a service id). funnel_* count the users whose events of the
-- service, in time order, reached that step of view (page/screen) → service_open →
-- service_complete within the funnel window (ClickHouse's windowFunnel semantics).
CREATE TABLE IF NOT EXISTS {db}.dws_service_daily (
    event_date      Date,
    service_id      UInt32,
    users           UInt64,
    events          UInt64,
    page_views      UInt64,
    sessions        UInt64,
    searches        UInt64,
    opens           UInt64,
    completes       UInt64,
    funnel_view     UInt64,
    funnel_open     UInt64,
    funnel_complete UInt64,
    computed_at     DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY event_date
ORDER BY (event_date, service_id);

-- Day-N retention: for the activity day event_date, each cohort of users first seen on
-- cohort_date (day_n = event_date - cohort_date days, 0 … the job's horizon): its size and how
-- many of it were active on event_date.
CREATE TABLE IF NOT EXISTS {db}.dws_retention_daily (
    event_date     Date,
    cohort_date    Date,
    day_n          UInt16,
    cohort_users   UInt64,
    retained_users UInt64,
    computed_at    DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY event_date
ORDER BY (event_date, cohort_date);

-- Campaign metrics per day: kind 'push' (reach: notice_delivered, action: notice_click, keyed by
-- properties.notice_id and .channel) and 'activity' (reach: activity_view, action: activity_join,
-- keyed by properties.activity_id). rate = converted_users / reached_users: push precision
-- (opened / delivered) and activity participation (joined / viewed).
CREATE TABLE IF NOT EXISTS {db}.dws_campaign_daily (
    event_date      Date,
    kind            String,
    campaign_id     String,
    channel         String,
    reached_users   UInt64,
    acted_users     UInt64,
    converted_users UInt64,
    actions         UInt64,
    rate            Float64,
    computed_at     DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY event_date
ORDER BY (event_date, kind, campaign_id, channel);
