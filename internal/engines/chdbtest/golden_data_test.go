package chdbtest

// goldenSetup fills the migrated schema with the same small, deterministic data on both engines:
// INSERT … SELECT over numbers() (Exec of INSERT … VALUES hangs on 18.16), so each engine computes
// the rows itself and the first golden queries check that they agree. {db} is the database.
var goldenSetup = []string{
	`INSERT INTO {db}.dim_region (code, name, level, parent_code, city_code, loaded_at)
SELECT tupleElement(r, 1), tupleElement(r, 2), tupleElement(r, 3), tupleElement(r, 4), '510100000000', toDateTime('2024-05-01 00:00:00')
FROM (SELECT arrayJoin([
    ('510100000000', '成都市', 'city', ''),
    ('510104000000', '锦江区', 'district', '510100000000'),
    ('510105000000', '青羊区', 'district', '510100000000'),
    ('510104017000', '春熙路街道', 'street', '510104000000'),
    ('510104018000', '书院街街道', 'street', '510104000000'),
    ('510105001000', '少城街道', 'street', '510105000000'),
    ('510104017001', '社区一', 'community', '510104017000'),
    ('510104017002', '社区二', 'community', '510104017000'),
    ('510104018001', '社区三', 'community', '510104018000'),
    ('510105001001', '社区四', 'community', '510105001000')]) AS r)`,
	// An old version of service 1 that FINAL must hide, then services 1-5 (events also use 6).
	`INSERT INTO {db}.dim_service (service_id, name, category, loaded_at)
SELECT toUInt32(1), '旧名称', '其他', toDateTime('2024-04-01 00:00:00') FROM numbers(1)`,
	`INSERT INTO {db}.dim_service (service_id, name, category, loaded_at)
SELECT toUInt32(number + 1), concat('服务', toString(number + 1)), arrayElement(['政务', '医疗'], number % 2 + 1), toDateTime('2024-05-01 00:00:00')
FROM numbers(5)`,
	// 500 events over 7 days; message ids repeat every 476 events with the same date and region
	// (the sort key), so FINAL keeps 476 of them: the later load, whose service differs.
	`INSERT INTO {db}.dwd_events (event_date, event_time, received_at, message_id, type, event, user_id, anonymous_id, user_key,
    session_id, region_code, service_id, source, app, os, device, properties, loaded_at)
SELECT toDate('2024-05-01') + number % 7,
    toDateTime('2024-05-01 00:00:00') + (number % 7) * 86400 + (number * 137) % 86400,
    toDateTime('2024-05-01 00:00:00') + (number % 7) * 86400 + (number * 137) % 86400 + 3,
    concat('m', toString(number % 476)),
    arrayElement(['track', 'page', 'screen', 'identify'], number % 4 + 1),
    if(number % 4 = 0, arrayElement(['search', 'apply', 'pay'], intDiv(number, 4) % 3 + 1), ''),
    if(number % 5 = 0, '', concat('u', toString(number % 23))),
    concat('a', toString(number % 31)),
    if(number % 5 = 0, concat('a', toString(number % 31)), concat('u', toString(number % 23))),
    concat('s', toString(intDiv(number, 3))),
    arrayElement(['510104017001', '510104017002', '510104018001', '510105001001'], number % 4 + 1),
    toUInt32(number % 6 + 1),
    arrayElement(['app', 'h5', 'mini'], number % 3 + 1),
    'citizen', arrayElement(['ios', 'android'], number % 2 + 1), 'phone',
    concat('{"amount":', toString(number % 50), ',"channel":"', arrayElement(['push', 'search', 'home'], number % 3 + 1), '"}'),
    toDateTime('2024-05-08 00:00:00') + number
FROM numbers(500)`,
	`INSERT INTO {db}.ods_bad_events (event_date, received_at, source, message_id, dedupe_key, event, code, rule, field, reason,
    batch_index, raw, loaded_at)
SELECT toDate('2024-05-01') + number % 5, toDateTime('2024-05-01 08:00:00') + number * 600,
    arrayElement(['app', 'h5'], number % 2 + 1), concat('b', toString(number)), concat('b', toString(number)),
    arrayElement(['search', 'pay'], number % 2 + 1), arrayElement(['missing', 'type'], number % 3 % 2 + 1),
    arrayElement(['required', 'string'], number % 3 % 2 + 1), arrayElement(['keyword', 'amount', 'channel'], number % 3 + 1),
    concat('reason ', toString(number % 4 + intDiv(number, 30))), toUInt32(number % 10), '{}',
    toDateTime('2024-05-08 00:00:00') + number
FROM numbers(60)`,
}

// refreshDailySQL is warehouse.RefreshDaily's statement (warehouse/aggregate.go) with its day
// bound: the golden test runs it for every day on both engines, and the overview queries read its
// uniqCombined states.
const refreshDailySQL = `INSERT INTO {db}.dws_region_service_daily (event_date, region_code, service_id, page_views, events, users, computed_at)
SELECT event_date, region_code, service_id, countIf(type IN ('page', 'screen')), count(), uniqCombinedState(user_key), now()
FROM {db}.dwd_events FINAL
WHERE event_date = toDate('%s')
GROUP BY event_date, region_code, service_id`
