// Package kafkatest holds the tests that run CityPulse's ingest path on a real Apache Kafka
// cluster (KRaft, three combined broker+controller nodes started by deploy/kafka/kafka.sh from
// the jars Maven Central serves): a broker is killed with SIGKILL while SDK-like senders post
// batches to the collector, restarted, and every event the collector answered 200 for must be
// in ClickHouse exactly once after the events pipeline; the collector's error rate and recovery
// time are printed. The tests run when CITYPULSE_TEST_KAFKA_CLUSTER is set ("start": a cluster of
// their own in a temporary directory; or the directory of a running 3-node cluster, whose nodes
// they kill and restart), so that `make test-engines` decides when they run; without it they
// skip, and a cluster that is asked for but cannot start fails them, CI or not. The single-node
// runs of the ordinary integration tests need nothing here: they follow CITYPULSE_TEST_KAFKA
// (internal/testenv). It is test-only: it exports nothing and nothing imports it.
package kafkatest
