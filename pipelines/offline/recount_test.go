package offline_test

import "fmt"

// Independent recounts of every job in plain ClickHouse SQL (FINAL for the dedupe), producing
// the jobs' columns under the tables' names. The tests compare them with the jobs' tables; the
// benchmark times user_daily's as the pure-SQL baseline.

// userDailySQL recounts dws_user_daily for a day; its two ? are the day.
const userDailySQL = `SELECT d AS event_date, k AS user_key, uid AS user_id, reg AS region_code, ev AS events,
    pv AS page_views, se AS sessions, dw AS dwell_seconds, svc AS services, ft AS first_time, lt AS last_time
FROM (
    SELECT event_date AS d, user_key AS k, max(user_id) AS uid,
        argMinIf(region_code, tuple(event_time, region_code), region_code != '') AS reg,
        count() AS ev, countIf(type IN ('page', 'screen')) AS pv, uniqExactIf(session_id, session_id != '') AS se,
        arraySort(groupUniqArrayIf(service_id, service_id != 0)) AS svc, min(event_time) AS ft, max(event_time) AS lt
    FROM dwd_events FINAL WHERE event_date = toDate(?) GROUP BY d, k
) AS ud_users ANY LEFT JOIN (
    SELECT user_key AS k, sum(toUInt64(l - f)) AS dw FROM (
        SELECT user_key, session_id, min(event_time) AS f, max(event_time) AS l
        FROM dwd_events FINAL WHERE event_date = toDate(?) AND session_id != '' GROUP BY user_key, session_id
    ) GROUP BY k
) AS ud_dwell USING k`

var userDailyCols = []string{"event_date", "user_key", "user_id", "region_code", "events", "page_views", "sessions",
	"dwell_seconds", "services", "first_time", "last_time"}

// regionPathSQL is a user's region path as (code, level) tuples, as the job builds it.
const regionPathSQL = `if(match(region_code, '^[0-9]{12}$'),
    arrayMap(c -> (c, multiIf(substring(c, 5) = '00000000', 'city', substring(c, 7) = '000000', 'district', substring(c, 10) = '000', 'street', 'community')),
        arrayDistinct([concat(substring(region_code, 1, 4), '00000000'), concat(substring(region_code, 1, 6), '000000'),
            concat(substring(region_code, 1, 9), '000'), region_code])),
    [('', '')])`

// regionDailySQL recounts dws_region_daily from dwd_events alone; its ? are the day (4 times).
var regionDailySQL = `SELECT region_code, level, users, new_users, events, page_views, sessions, dwell_seconds,
    if(sessions = 0, 0, page_views / sessions) AS visit_depth, if(sessions = 0, 0, dwell_seconds / sessions) AS avg_dwell_seconds
FROM (
    SELECT rc.1 AS region_code, rc.2 AS level, count() AS users, sum(is_new) AS new_users, sum(ev) AS events,
        sum(pv) AS page_views, sum(se) AS sessions, sum(dw) AS dwell_seconds
    FROM (
        SELECT events AS ev, page_views AS pv, sessions AS se, dwell_seconds AS dw,
            toUInt64(user_key IN (SELECT user_key FROM dwd_events WHERE event_date <= toDate(?) GROUP BY user_key HAVING min(event_date) = toDate(?))) AS is_new,
            arrayJoin(` + regionPathSQL + `) AS rc
        FROM (` + userDailySQL + `)
    ) GROUP BY rc
)`

var regionDailyCols = []string{"region_code", "level", "users", "new_users", "events", "page_views", "sessions",
	"dwell_seconds", "visit_depth", "avg_dwell_seconds"}

// regionFromUserDailySQL is region_daily's computation in SQL from the job's own inputs
// (dws_user_daily, dws_user_first_day): the benchmark's baseline; ? are the day (twice).
const regionFromUserDailySQL = `SELECT region_code, level, users, new_users, events, page_views, sessions, dwell_seconds,
    if(sessions = 0, 0, page_views / sessions) AS visit_depth, if(sessions = 0, 0, dwell_seconds / sessions) AS avg_dwell_seconds
FROM (
    SELECT rc.1 AS region_code, rc.2 AS level, count() AS users, sum(is_new) AS new_users, sum(ev) AS events,
        sum(pv) AS page_views, sum(se) AS sessions, sum(dw) AS dwell_seconds
    FROM (
        SELECT events AS ev, page_views AS pv, sessions AS se, dwell_seconds AS dw,
            toUInt64(user_key IN (SELECT user_key FROM dws_user_first_day GROUP BY user_key HAVING minMerge(first_day) = toDate(?))) AS is_new,
            arrayJoin(` + regionPathSQL + `) AS rc
        FROM dws_user_daily FINAL WHERE event_date = toDate(?)
    ) GROUP BY rc
)`

// retentionFromTablesSQL is retention's computation in SQL from the job's own inputs; its ? are
// day, day, day, horizon, day.
const retentionFromTablesSQL = `SELECT cohort AS cohort_date, toUInt16(toDate(?) - cohort) AS day_n, count() AS cohort_users,
    countIf(user_key IN (SELECT user_key FROM dws_user_daily FINAL WHERE event_date = toDate(?))) AS retained_users
FROM (
    SELECT user_key, minMerge(first_day) AS cohort FROM dws_user_first_day
    GROUP BY user_key HAVING cohort BETWEEN toDate(?) - ? AND toDate(?)
) GROUP BY cohort`

// serviceDailySQL recounts dws_service_daily; ? is the day.
func serviceDailySQL(window int64) string {
	return fmt.Sprintf(`SELECT sid AS service_id, count() AS users, sum(e) AS events, sum(p) AS page_views, sum(s) AS sessions,
    sum(sr) AS searches, sum(o) AS opens, sum(c) AS completes,
    countIf(lvl >= 1) AS funnel_view, countIf(lvl >= 2) AS funnel_open, countIf(lvl >= 3) AS funnel_complete
FROM (
    SELECT service_id AS sid, user_key, count() AS e, countIf(type IN ('page', 'screen')) AS p,
        uniqExactIf(session_id, session_id != '') AS s, countIf(type = 'track' AND event = 'search') AS sr,
        countIf(type = 'track' AND event = 'service_open') AS o, countIf(type = 'track' AND event = 'service_complete') AS c,
        windowFunnel(%d)(event_time, type IN ('page', 'screen'), type = 'track' AND event = 'service_open',
            type = 'track' AND event = 'service_complete') AS lvl
    FROM (SELECT * FROM dwd_events FINAL WHERE event_date = toDate(?)) WHERE service_id != 0 GROUP BY sid, user_key
) GROUP BY sid`, window)
}

var serviceDailyCols = []string{"service_id", "users", "events", "page_views", "sessions", "searches", "opens",
	"completes", "funnel_view", "funnel_open", "funnel_complete"}

// retentionSQL recounts dws_retention_daily from dwd_events; its ? are day, day, day, day, horizon.
const retentionSQL = `SELECT cohort AS cohort_date, toUInt16(toDate(?) - cohort) AS day_n, count() AS cohort_users,
    countIf(user_key IN (SELECT user_key FROM dwd_events WHERE event_date = toDate(?))) AS retained_users
FROM (
    SELECT user_key, min(event_date) AS cohort FROM dwd_events WHERE event_date <= toDate(?)
    GROUP BY user_key HAVING cohort >= toDate(?) - ?
) GROUP BY cohort`

var retentionCols = []string{"cohort_date", "day_n", "cohort_users", "retained_users"}

// campaignSQL recounts dws_campaign_daily (visitParam reads the compact properties JSON); ? is
// the day.
const campaignSQL = `SELECT kind, campaign_id, channel, sum(r) AS reached_users, sum(a) AS acted_users,
    sum(r * a) AS converted_users, sum(n) AS actions, if(sum(r) = 0, 0, sum(r * a) / sum(r)) AS rate
FROM (
    SELECT kind, cid AS campaign_id, ch AS channel, user_key, max(NOT act) AS r, max(act) AS a, countIf(act) AS n
    FROM (
        SELECT user_key, if(event IN ('notice_delivered', 'notice_click'), 'push', 'activity') AS kind,
            event IN ('notice_click', 'activity_join') AS act,
            if(kind = 'push', visitParamExtractString(properties, 'notice_id'), visitParamExtractString(properties, 'activity_id')) AS cid,
            if(kind = 'push', visitParamExtractString(properties, 'channel'), '') AS ch
        FROM dwd_events FINAL
        WHERE event_date = toDate(?) AND type = 'track' AND event IN ('notice_delivered', 'notice_click', 'activity_view', 'activity_join')
    ) WHERE cid != '' GROUP BY kind, campaign_id, channel, user_key
) GROUP BY kind, campaign_id, channel`

var campaignCols = []string{"kind", "campaign_id", "channel", "reached_users", "acted_users", "converted_users", "actions", "rate"}

// rowsSQL formats the columns of the rows from (a subquery) as one string per row, in order.
func rowsSQL(cols []string, from string) string {
	expr := ""
	for i, c := range cols {
		if i > 0 {
			expr += ", '|', "
		}
		expr += "toString(" + c + ")"
	}
	return "SELECT concat(" + expr + ") AS row FROM (" + from + ") ORDER BY row"
}
