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
// A run writes its day into a staging copy of the table and swaps it in with REPLACE PARTITION:
// a rerun or a backfill reproduces the day exactly. Run computes one job for one day; the
// scheduler (pipelines/scheduler/stdjobs) declares them as jobs with their dependencies. The
// package does not schedule, does not read Kafka, and writes only its own dws_ tables.
package offline
