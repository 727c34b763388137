//go:build !unix

package testenv

// LockSharedTopics is a no-op where flock(2) is missing: tests on a real broker that share
// CityPulse's fixed topic names must then not run at the same time (go test -p 1).
func (k *KafkaBroker) LockSharedTopics() {}
