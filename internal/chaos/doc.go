// Package chaos holds the fault tests of the ingest path, run against the real processes: the
// citypulse binary is built and started as a child process, faults are injected from outside it
// (SIGKILL mid-load, restart on the same port) while SDK-like senders keep sending, and the test
// then checks what reached Kafka and, after the events pipeline ran, ClickHouse: every event the
// collector answered 200 for is stored exactly once. It is test-only: it exports nothing, and
// nothing may import it. Its tests need ClickHouse (testenv) and a Go toolchain to build the
// binary; they are bounded to about a minute.
package chaos
