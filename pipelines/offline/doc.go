// Package offline is CityPulse's offline engine (离线分析引擎): Beam batch pipelines that compute
// one day of the daily aggregates from dwd_events and from each other, read through the
// ClickHouse source (pipelines/chsource) and written through the shared sink (pipelines/chsink):
//
//   - user_daily → dws_user_daily (per user: events, page views, sessions, dwell time, services,
//     region) and the users' first days in dws_user_first_day;
//   - region_daily → dws_region_daily (every region level: users, new users, visit depth, dwell
//     time), from dws_user_daily;
//   - retention → dws_retention_daily (day-N retention of first-seen cohorts), from
//     dws_user_daily and dws_user_first_day;
//   - service_daily → dws_service_daily (per service: use, and the view → open → complete funnel);
//   - campaign_daily → dws_campaign_daily (push precision: opened / delivered per notice;
//     activity participation: joined / viewed per activity).
//
// dwd_events is read with FINAL, so an event re-delivered under the same message id counts once.
// A run writes its day into a staging copy of the table and swaps it in (DROP PARTITION, ATTACH
// PARTITION … FROM): a rerun or a backfill reproduces the day exactly. Run computes one job for
// one day; the scheduler (pipelines/scheduler/stdjobs) declares them as jobs with their
// dependencies. Archive exports a cold month of dwd_events to Parquet (read back with
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
