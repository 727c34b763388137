// Package offline is CityPulse's offline engine (离线分析引擎): Beam batch pipelines that compute
// one day of the daily aggregates, or one hour of the hourly ones, from dwd_events and from each
// other, read through the ClickHouse source (pipelines/chsource) and written through the shared
// sink (pipelines/chsink):
//
//   - user_daily → dws_user_daily (per user: events, page views, sessions, dwell time, services,
//     region) and the users' first days in dws_user_first_day;
//   - region_daily → dws_region_daily (every region level: users, new users, visit depth, dwell
//     time), from dws_user_daily;
//   - retention → dws_retention_daily (day-N retention of first-seen cohorts), from
//     dws_user_daily and dws_user_first_day;
//   - service_daily → dws_service_daily (per service: use, and the view → open → complete funnel);
//   - campaign_daily → dws_campaign_daily (push precision: opened / delivered per notice;
//     activity participation: joined / viewed per activity);
//   - region_hourly (hourly, RunHour) → dws_region_hourly (per hour, region at every level and
//     service, 0 for all: exact users, events, page views, sessions; each event counts in its
//     own region).
//
// dwd_events is read with FINAL, so an event re-delivered under the same message id counts once.
// A run writes its day into a staging copy of the table and swaps it in (DROP PARTITION, ATTACH
// PARTITION … FROM): a rerun or a backfill reproduces the day exactly. An hourly run stages its
// hour the same way and adds it to the day's partition (ATTACH PARTITION … FROM, no DROP) with a
// computed_at newer than the hour's rows already there, plus rows of zeros for keys it no longer
// has, so that the ReplacingMergeTree read with FINAL holds exactly the newest run of each hour
// and runs of different hours may run at once. Run computes one daily job for one day, RunHour
// one hourly job for one hour; the scheduler (pipelines/scheduler/stdjobs) declares them as jobs
// with their dependencies. Archive exports a cold month of dwd_events to Parquet (read back with
// chsource.ReadParquet) and may drop the partition.
//
// Shape of the pipelines: each bundle folds its events into partial results per user (a map, so
// combiner lifting by hand) and emits them in one batch per user shard (Options.Shards); a
// GroupByKey on the shard brings a user's partials together; the merged results are summed per
// output key and written. Runners charge per element far more than per byte (Prism ~10 µs per
// element through a shuffle), so batches, not single users, cross the shuffle; the batches have
// binary coders. The package does not schedule, does not read Kafka, and writes only its own
// dws_ tables (and, when asked, drops an archived month of dwd_events).
package offline
