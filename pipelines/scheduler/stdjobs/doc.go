// Package stdjobs declares CityPulse's standard scheduled jobs on existing code, for the binary to
// register with the scheduler (pipelines/scheduler): "events", which waits until the streaming
// events pipeline has written everything the broker held when it started (its consumer group has
// committed up to those offsets), and "daily", which depends on it and recomputes the day's
// aggregate dws_region_service_daily with warehouse.RefreshDaily. OfflineJobs adds the offline
// engine's daily jobs (pipelines/offline: user_daily, service_daily and campaign_daily after
// events; region_daily and retention after user_daily), its hourly jobs ("events_hourly", the same
// events-landed check, at five past every hour for the hour before, then region_hourly for that
// hour), "archive", monthly and off unless offline-archive-after-months is set, which moves cold
// months of dwd_events to Parquet files (offline.Archive) and drops them once the files hold
// every row, and "minute_retention", monthly, which drops months older than minute-keep-months
// (3) from the per-minute tables. Later jobs (profiles, tags, quality scores) declare DependsOn
// to run after these for the same day. It owns no tables and runs no streaming pipeline itself:
// the pipeline runner (pipelines.Runner) keeps consuming; this package observes its progress and
// recomputes aggregates, idempotently.
package stdjobs
