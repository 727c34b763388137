package chdbtest

// goldenQueries run on both engines over goldenSetup's data; every one has a total ORDER BY (or
// one row), so rows compare in order. The first group checks the data itself, the second is the
// product's own queries with their parameters bound (apiserver overview, regions, violations),
// the third the features CityPulse relies on (shared/CLICKHOUSE-18.md), the last the spots where
// engines are known to drift: result types, alias scoping, joins, time zones, text functions.
var goldenQueries = []goldenQuery{
	// The data.
	{"events_final", `SELECT count(), uniqExact(message_id), sum(service_id), sum(toUInt64(loaded_at)) FROM dwd_events FINAL`},
	{"events_sample", `SELECT event_date, event_time, message_id, type, event, user_key, region_code, service_id, properties
FROM dwd_events FINAL ORDER BY event_time, message_id LIMIT 5`},
	{"dim_service_final", `SELECT service_id, name, category FROM dim_service FINAL ORDER BY service_id`},
	{"daily_rows", `SELECT event_date, region_code, service_id, page_views, events, uniqCombinedMerge(users)
FROM dws_region_service_daily FINAL GROUP BY event_date, region_code, service_id, page_views, events
ORDER BY event_date, region_code, service_id LIMIT 10`},

	// The product's queries (apiserver/overview.go, regions.go, violations.go), parameters bound.
	{"overview_totals", `SELECT uniqCombinedMerge(users), sum(page_views), sum(events) FROM dws_region_service_daily FINAL
WHERE region_code LIKE '5101%' AND event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')`},
	{"overview_trend", `SELECT event_date, uniqCombinedMerge(users), sum(page_views) FROM dws_region_service_daily FINAL
WHERE region_code LIKE '510104%' AND event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
GROUP BY event_date ORDER BY event_date`},
	{"overview_top", `SELECT service_id, sum(page_views) AS pv, uniqCombinedMerge(users) AS u FROM dws_region_service_daily FINAL
WHERE region_code LIKE '5101%' AND event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
GROUP BY service_id ORDER BY pv DESC, u DESC, service_id LIMIT 3`},
	{"overview_children", `SELECT substring(region_code, 1, 9) AS child, uniqCombinedMerge(users), sum(page_views) FROM dws_region_service_daily FINAL
WHERE region_code LIKE '5101%' AND event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
GROUP BY child ORDER BY child`},
	{"overview_services", `SELECT service_id, name, category FROM dim_service FINAL WHERE service_id IN (1, 3, 6) ORDER BY service_id`},
	{"region_family", `SELECT code, name, level, parent_code FROM dim_region FINAL
WHERE code IN ('510104000000') OR parent_code = '510104000000' ORDER BY code`},
	{"violations_total", `SELECT count(), uniqExact(event, rule, field, code) FROM ods_bad_events FINAL
WHERE event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')`},
	{"violations_days", `SELECT event_date, count() FROM ods_bad_events FINAL
WHERE event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07') AND source = 'app' GROUP BY event_date ORDER BY event_date`},
	{"violations_top", `SELECT event, rule, field, code, count() FROM ods_bad_events FINAL
WHERE event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
GROUP BY event, rule, field, code ORDER BY count() DESC, event, rule, field, code LIMIT 5`},
	{"violations_per_day", `SELECT event, rule, field, code, event_date, count() FROM ods_bad_events FINAL
WHERE event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
AND (event, rule, field, code) IN (SELECT event, rule, field, code FROM ods_bad_events FINAL
    WHERE event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
    GROUP BY event, rule, field, code ORDER BY count() DESC, event, rule, field, code LIMIT 2)
GROUP BY event, rule, field, code, event_date ORDER BY event_date, event, rule, field, code`},

	// Features CityPulse relies on.
	{"funnel", `SELECT level, count() FROM (SELECT user_key, windowFunnel(86400)(event_time, event = 'search', event = 'apply', event = 'pay') AS level
FROM dwd_events FINAL GROUP BY user_key) GROUP BY level ORDER BY level`},
	{"retention", `SELECT sum(r[1]), sum(r[2]), sum(r[3]) FROM (SELECT user_key,
retention(event_date = toDate('2024-05-01'), event_date = toDate('2024-05-02'), event_date = toDate('2024-05-03')) AS r
FROM dwd_events FINAL GROUP BY user_key)`},
	{"sequence", `SELECT sum(m), sum(c) FROM (SELECT user_key, sequenceMatch('(?1)(?2)')(event_time, type = 'page', type = 'track') AS m,
sequenceCount('(?1)(?2)')(event_time, type = 'page', type = 'track') AS c FROM dwd_events FINAL GROUP BY user_key)`},
	{"uniq_family", `SELECT uniqExact(user_key), uniqCombined(user_key), uniqHLL12(user_key), uniq(user_key) FROM dwd_events FINAL`},
	{"quantiles", `SELECT quantileExact(0.5)(service_id), quantilesExact(0.1, 0.9)(service_id), avg(service_id) FROM dwd_events FINAL`},
	{"limit_by", `SELECT region_code, service_id, count() AS c FROM dwd_events FINAL GROUP BY region_code, service_id
ORDER BY region_code, c DESC, service_id LIMIT 2 BY region_code`},
	{"array_join", `SELECT x, count() FROM dwd_events FINAL ARRAY JOIN [type, source] AS x GROUP BY x ORDER BY x`},
	{"group_arrays", `SELECT region_code, arraySort(groupUniqArray(service_id)), length(groupArray(type)), topK(2)(service_id)
FROM dwd_events FINAL WHERE service_id IN (1, 2) GROUP BY region_code ORDER BY region_code`},
	{"in_subquery_tuple", `SELECT count() FROM dwd_events FINAL WHERE (region_code, service_id) IN (('510104017001', 1), ('510105001001', 4))
AND user_key IN (SELECT user_key FROM dwd_events FINAL WHERE type = 'identify')`},
	{"if_aggregates", `SELECT argMax(type, loaded_at), countIf(type = 'page'), sumIf(service_id, type = 'track'), min(event_time), max(event_date)
FROM dwd_events FINAL`},
	{"json_properties", `SELECT visitParamExtractString(properties, 'channel') AS ch, sum(visitParamExtractUInt(properties, 'amount'))
FROM dwd_events FINAL GROUP BY ch ORDER BY ch`},

	// Where engines drift.
	{"time_buckets", `SELECT event_time, toStartOfFiveMinute(event_time), toStartOfHour(event_time), toStartOfMinute(event_time),
toMonday(event_date), toYYYYMM(event_date), toDayOfWeek(event_date), toHour(event_time), toStartOfDay(event_time)
FROM dwd_events FINAL ORDER BY event_time, message_id LIMIT 3`},
	{"time_zones", `SELECT toDateTime('2024-05-01 12:00:00'), toDateTime('2024-05-01 12:00:00', 'UTC'), toUnixTimestamp(toDateTime('2024-05-01 12:00:00')),
toDateTime(1714552200), toDate(toDateTime('2024-05-01 23:30:00', 'UTC')), toString(toDateTime('2024-05-01 12:00:00', 'UTC')),
toStartOfDay(toDateTime('2024-05-01 02:00:00'), 'UTC'),
toDateTime('2024-05-01 12:00:00') >= '2024-05-01 11:00:00'`},
	{"date_arithmetic", `SELECT toDate('2024-05-01') + 1, toDate('2024-05-01') - toDate('2024-04-01'), dateDiff('day', toDate('2024-04-01'), toDate('2024-05-01')),
addDays(toDate('2024-02-28'), 2), toDateTime('2024-05-01 00:00:00') + 90, subtractHours(toDateTime('2024-05-01 00:00:00'), 1)`},
	{"number_types", `SELECT 7 / 2, intDiv(7, 2), 7 % 3, 1 - 2, toUInt8(255) + 1, toUInt32(3) * 2, toInt64(-1) * toUInt64(1), 1 / 0, toString(0.1 + 0.2), sum(number), avg(number), count() FROM numbers(10)`},
	{"string_functions", `SELECT lower('ÄB'), lowerUTF8('ÄB'), length('成都'), lengthUTF8('成都'), substring('成都市', 1, 3),
substringUTF8('成都市', 1, 2), concat('a', toString(1.5)), replaceAll('a.b.c', '.', '/'), position('abc', 'c'),
'abc' LIKE 'a%', match('abc', '^a.c$'), splitByChar(',', 'a,b,,c'), arrayStringConcat(['x', 'y'], '-'),
hex(MD5('a')), cityHash64('citypulse'), sipHash64('citypulse')`},
	{"nulls", `SELECT ifNull(nullIf(region_code, '510104017001'), 'none') AS r, count(), NULL = 1, isNull(NULL), coalesce(NULL, 2)
FROM dwd_events FINAL GROUP BY r ORDER BY r`},
	{"conditionals", `SELECT number, if(number % 2 = 0, 1, -1), multiIf(number < 2, 'a', number < 4, 'b', 'c'), number IN (1, 3)
FROM numbers(5) ORDER BY number`},
	{"alias_shadows_column", `SELECT substring(region_code, 1, 6) AS region_code, count() FROM dwd_events FINAL
WHERE region_code = '510104' GROUP BY region_code ORDER BY region_code`},
	{"having_alias", `SELECT service_id, count() AS c FROM dwd_events FINAL GROUP BY service_id HAVING c > 79 ORDER BY service_id`},
	{"left_join_using", `SELECT service_id, name, category, count() FROM dwd_events FINAL
LEFT JOIN (SELECT service_id, name, category FROM dim_service FINAL) AS s USING service_id
GROUP BY service_id, name, category ORDER BY service_id`},
	{"left_join_on", `SELECT e.service_id, s.name, count() FROM dwd_events AS e FINAL
LEFT JOIN (SELECT service_id, name FROM dim_service FINAL) AS s ON e.service_id = s.service_id
GROUP BY e.service_id, s.name ORDER BY e.service_id`},
	{"with_scalar", `WITH toDate('2024-05-03') AS d SELECT count() FROM dwd_events FINAL WHERE event_date = d`},
	{"distinct_order", `SELECT DISTINCT type FROM dwd_events FINAL ORDER BY type`},
	{"mutations_free_final", `SELECT region_code, count() FROM dwd_events FINAL WHERE service_id = 6 GROUP BY region_code ORDER BY region_code`},
}

// driftProbes are statements whose result is known to differ between 18.16 and the current
// engine (docs/clickhouse-compat.md says why and what CityPulse does about it). The test logs
// their differences and tells when one stops differing; CityPulse code must not depend on them.
var driftProbes = []struct {
	goldenQuery
	why string
}{
	{goldenQuery{"no_final_after_insert", `SELECT count(), sum(service_id) FROM dwd_events`},
		"optimize_on_insert (21.1+): a ReplacingMergeTree insert block is deduplicated on insert; 18.16 only on merge. Read with FINAL."},
	{goldenQuery{"formatdatetime_M", `SELECT formatDateTime(toDateTime('2024-05-01 12:03:04'), '%Y-%m-%d %H:%M:%S')`},
		"formatDateTime %M is the minute on 18.16 and the month name since 23.4. Format times in Go."},
	{goldenQuery{"round_half", `SELECT round(2.5), round(3.5), round(-2.5), round(2.675, 2)`},
		"round() of a float: half away from zero on 18.16, half to even on the current engine. Round in Go."},
	{goldenQuery{"modulo_type", `SELECT -7 % 3, toTypeName(-7 % 3)`},
		"the result type of a signed modulo widened from Int8 to Int16: scan into int64, not a narrow type."},
	{goldenQuery{"topk_ties", `SELECT event, rule, field, code, count(), topK(3)(reason) FROM ods_bad_events FINAL
WHERE event_date >= toDate('2024-05-01') AND event_date <= toDate('2024-05-07')
GROUP BY event, rule, field, code ORDER BY count() DESC, event, rule, field, code LIMIT 5`},
		"apiserver's violation query: topK picks among equally frequent reasons differently. sample_reasons is a sample; tests must not pin which tie wins."},
	{goldenQuery{"quantile_types", `SELECT median(service_id), quantile(0.5)(service_id), quantileTDigest(0.5)(service_id), quantileExact(0.5)(service_id)
FROM dwd_events FINAL`},
		"median/quantile/quantileTDigest of an integer return that integer type on 18.16 and Float64/Float32 now (and TDigest interpolates). Use quantileExact, whose type is kept."},
	{goldenQuery{"join_subquery_without_alias", `SELECT service_id, name FROM dwd_events FINAL
LEFT JOIN (SELECT service_id, name FROM dim_service FINAL) USING service_id WHERE service_id = 1 LIMIT 1`},
		"joined_subquery_requires_alias (on by default in current releases): the current engine rejects a joined subquery without an alias. Always alias it."},
}
