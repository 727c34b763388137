// Package pipelines holds CityPulse's Apache Beam pipelines and the loop that runs them. Each
// pipeline is built by a function on a beam.Scope (construction apart from running, as in Beam's
// examples); Run executes bounded runs one after another on the configured runner (Prism
// in-process by default), committing Kafka offsets only after a run has written its output. It
// must not hold state that only one process could have: everything it needs is in Kafka and
// ClickHouse.
package pipelines
