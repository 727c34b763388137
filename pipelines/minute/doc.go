// Package minute is the streaming minute-metrics pipeline: it reads citypulse.events.v1 with its
// own consumer group (kafkaio.ReadStream on Prism, or bounded ranges in the Runner's
// micro-batches), cleans events exactly as the events pipeline does (events.Clean), and keeps
// per-minute metrics by region (city, district, street and community), service and app in
// ClickHouse: page views, events, unique users, new users and active sessions in
// dws_minute_metrics, sessions with their first event and length in dws_minute_sessions. Series
// reads them for a region, merging minutes into hours or days.
//
// Exactly once in effect: the source is at least once (offsets are committed only after the sink
// has written, see kafkaio.Committer), and the sink inserts an event into dwd_minute_events only
// when its (minute, message_id) is not there yet. In the same insert it adds one rollup row per
// minute, region, service and app of the new events (their counts, distinct users and sessions,
// summed in Go), which mv_minute_events turns into the metric states (migration 0012); the rollup
// rows have message ids of their own, so a retried insert adds whatever of events and rollups is
// still missing. Duplicates sent by clients and records re-read after a crash are therefore
// counted once, and a late event simply adds to its own minute. A user's first event is kept in
// dws_user_first_seen as +1/-1 rows written after the same kind of check, so new users are exact
// and move to an earlier minute when an earlier event arrives late.
//
// Streaming, the sink hands each bundle's events and offsets to one background writer per
// process and job (writer.go), which writes them in order and then commits the offsets; a long
// write in FinishBundle would stall the whole job on Prism (see writer.go). In the bounded
// micro-batches the sink writes in FinishBundle, and the caller commits after the run.
//
// It does not write dwd_events or the daily aggregates (the events pipeline does), plan or commit
// offsets of other pipelines, or scope regions to callers (the API does).
package minute
