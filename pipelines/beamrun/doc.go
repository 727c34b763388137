// Package beamrun runs a Beam pipeline on the runner a configuration names: the in-process
// Prism runner by default, or any portable runner reached through a Beam Job API endpoint
// (Apache Flink's job server, a standalone Prism job server, …).
//
// Its one job is the hand-over from a built *beam.Pipeline to a runner: Options names the
// runner, the job server's host:port and the environment the workers run in (LOOPBACK, DOCKER,
// PROCESS, EXTERNAL); Validate names the bad field; Run submits, waits and wraps errors with the
// runner and the endpoint. "flink" reads as "universal" against a Flink job server.
//
// Concurrency: the Beam Go SDK keeps its job options (jobopts.Endpoint, EnvironmentType, …) in
// process-wide flag variables that its runners read when a job starts, and the in-process Prism
// runner writes jobopts.Endpoint the first time it runs. beam.Run blocks for a job's whole life,
// so no lock around it could make writing those variables safe for a streaming job running beside
// micro-batches. Run therefore never writes them for portable jobs: it passes the options
// explicitly to the SDK functions the universal runner calls (graphx, runnerlib, extworker). The
// in-process path keeps calling beam.Run(ctx, "prism", p); its one write of jobopts.Endpoint is made
// once, under a lock, by a tiny warm-up job, so concurrent first jobs do not race on it.
//
// It must not build pipelines, hold any per-pipeline state, or parse flags itself (the binary's
// config binder maps the tagged fields to flags and CITYPULSE_* variables). A binary that runs
// DOCKER or PROCESS workers must start as a Beam worker when IsWorker(os.Args[1:]) says so.
package beamrun
