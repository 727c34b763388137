-- Hourly aggregates of the offline engine (pipelines/offline: region_hourly, scheduled hourly by
-- pipelines/scheduler/stdjobs). {db} is replaced with the quoted database name. Statements are
-- separated by ";" at a line end. Every statement must run on ClickHouse 18.16 and on current
-- ClickHouse (ARCHITECTURE.md).
--
-- A run computes one hour into a staging copy of the table and adds it to the table with
-- ALTER TABLE … ATTACH PARTITION … FROM the copy (one step: readers see the old hour or the new
-- one, never half of it). The table is partitioned by day, so the hour is not a partition of its
-- own: the engine is ReplacingMergeTree(computed_at) and every run writes its hour with a
-- computed_at later than the hour's rows already there, so with FINAL the run's rows replace
-- the previous run's row for row. A key the previous run had and this one has not (its events
-- were deleted or archived) gets a row of zeros: read with FINAL, and ignore rows with
-- events = 0. Runs of different hours touch different keys, so they may run at the same time.

-- Per hour (event_hour: the hour's start; event_date: its date in the scheduler's zone, which is
-- the events' zone), region at every level (city, district, street, community; '' for events
-- without a valid region) and service, from dwd_events: service_id 0 counts every event of the
-- hour and region, with or without a service; service_id N only the events of service N. Each
-- event counts in its own region's path (as in dws_minute_metrics; dws_region_daily counts a
-- user's whole day in one region instead). users are exact distinct user keys and sessions exact
-- distinct (user key, session id) pairs with an event at the row's keys: they are not additive
-- across hours, regions or services (a day's users are in dws_region_daily; mergeable states
-- of the same keys are in dws_minute_metrics).
CREATE TABLE IF NOT EXISTS {db}.dws_region_hourly (
    event_date  Date,
    event_hour  DateTime,
    region_code String,
    level       String,
    service_id  UInt32,
    users       UInt64,
    events      UInt64,
    page_views  UInt64,
    sessions    UInt64,
    computed_at DateTime
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY event_date
ORDER BY (event_date, region_code, service_id, event_hour);
