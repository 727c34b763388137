// Package bus names CityPulse's Kafka topics (Topics: the platform's names behind an optional
// per-installation prefix) and owns the connection settings every producer and
// consumer shares: the broker list, the embedded single-node broker (franz-go's kfake, persisted
// to a data directory so an acknowledged record survives a restart) that `citypulse up` runs
// in-process, a client constructor and idempotent topic creation. It must not know what the
// records mean: encoding, validation and consuming belong to ingest/ and pipelines/.
package bus
