// Package stdjobs declares CityPulse's standard scheduled jobs on existing code, for the binary to
// register with the scheduler (pipelines/scheduler): "events", which waits until the streaming
// events pipeline has written everything the broker held when it started (its consumer group has
// committed up to those offsets), and "daily", which depends on it and recomputes the day's
// aggregate dws_region_service_daily with warehouse.RefreshDaily. Later jobs (profiles, tags,
// quality scores) declare DependsOn: []string{JobDaily} to run after it for the same day. It
// owns no tables and runs no pipeline itself: the pipeline runner (pipelines.Runner) keeps
// consuming; this package only observes its progress and recomputes aggregates, idempotently.
package stdjobs
