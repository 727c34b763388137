-- The minute pipeline sums its events in Go (pipelines/minute). {db} is replaced with the quoted
-- database name. Statements are separated by ";" at a line end. Every statement must run on
-- ClickHouse 18.16 and on current ClickHouse (ARCHITECTURE.md).
--
-- Until now mv_minute_events turned every inserted event into four rows (one per region level)
-- and grouped them into fresh sum/uniqCombined states: ~95% of the time of an insert into
-- dwd_minute_events. The pipeline now sends, in the same insert as the events, one rollup row
-- per (minute, region, service, app) of the new events it inserts: is_rollup = 1, the region's
-- path in regions as on the events, the counts in page_views and events, the distinct users and
-- sessions as arrays. The view reads only those rows and makes states of them at each level of
-- the path with arrayReduce, without a GROUP BY; a district's states from its communities'
-- rows merge (AggregatingMergeTree, and -Merge at read) into the district's numbers. (Making
-- the states once per row in a subquery, before the ARRAY JOIN, fails on 18.16 inside a view:
-- "Unknown identifier".)
-- A rollup row has a message_id of its own ("~rollup/…") in the minute it counts, so it is
-- written exactly once by the same check-then-insert as the events, in the same part as its
-- minute's events; its session_id is '' so mv_minute_sessions skips it. Rows written before this
-- migration were counted by the old view and keep their zero defaults.
--
-- 18.16 has no ADD COLUMN IF NOT EXISTS: the ALTER is the first statement, so a run that fails
-- in it is retried whole without harm. Stop the minute pipeline while this migration runs (an
-- event inserted between the DROP and the CREATE would not be counted).
ALTER TABLE {db}.dwd_minute_events
    ADD COLUMN is_rollup UInt8,
    ADD COLUMN page_views UInt64,
    ADD COLUMN events UInt64,
    ADD COLUMN users Array(String),
    ADD COLUMN sessions Array(String);

DROP TABLE IF EXISTS {db}.mv_minute_events;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_minute_events TO {db}.dws_minute_metrics AS
SELECT minute, region_code,
    multiIf(region_code = '', '', substring(region_code, 5) = '00000000', 'city', substring(region_code, 7) = '000000', 'district', substring(region_code, 10) = '000', 'street', 'community') AS level,
    service_id, app,
    arrayReduce('sumState', [page_views]) AS page_views,
    arrayReduce('sumState', [events]) AS events,
    arrayReduce('uniqCombinedState', users) AS users,
    arrayReduce('sumState', [toInt64(0)]) AS new_users,
    arrayReduce('uniqCombinedIfState', sessions, arrayMap(s -> toUInt8(s != ''), sessions)) AS sessions
FROM {db}.dwd_minute_events
ARRAY JOIN regions AS region_code
WHERE is_rollup = 1;
