//go:build unix

package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lockWait bounds the wait for another test's hold on a real broker's shared topics.
const lockWait = 15 * time.Minute

// LockSharedTopics makes this test the only one, across test processes, that uses CityPulse's
// fixed topic names (citypulse.events.v1, citypulse.events.dlq.v1, citypulse.feeds.*) on a real
// broker, until the test ends (a second call on k is a no-op): the collector and the pipelines have no per-test topic names, so
// two tests sharing those topics at once would read each other's records. It is a no-op on an
// embedded broker, which is the test's own. The lock is an flock(2) on a file in the broker's
// kafka.sh directory, or in the temporary directory keyed by the bootstrap list.
func (k *KafkaBroker) LockSharedTopics() {
	k.t.Helper()
	if !k.External() || k.locked {
		return
	}
	path := filepath.Join(k.Dir, "shared-topics.lock")
	if k.Dir == "" {
		sum := sha256.Sum256([]byte(strings.Join(k.Bus.Brokers, ",")))
		path = filepath.Join(os.TempDir(), "citypulse-kafka-"+hex.EncodeToString(sum[:6])+".lock")
	}
	start := time.Now()
	var f *os.File
	for logged := false; ; {
		var err error
		f, err = tryLockFile(path)
		if err != nil {
			k.t.Fatalf("lock the shared topics of %v: %v", k.Bus.Brokers, err)
		}
		if f != nil {
			break
		}
		if time.Since(start) > lockWait {
			k.t.Fatalf("lock %s: another test held the shared topics of %v for over %s", path, k.Bus.Brokers, lockWait)
		}
		if !logged {
			k.t.Logf("waiting for another test to finish with the shared topics of %v (%s)", k.Bus.Brokers, path)
			logged = true
		}
		time.Sleep(100 * time.Millisecond)
	}
	if w := time.Since(start); w > time.Second {
		k.t.Logf("waited %s for the shared topics of %v", w.Round(time.Millisecond), k.Bus.Brokers)
	}
	// Closing the file releases the lock.
	k.locked = true
	k.t.Cleanup(func() { f.Close(); k.locked = false })
}

// tryLockFile takes an exclusive flock(2) on path (created if missing) without waiting. It
// returns the open file, whose Close releases the lock, or nil when another holder has it.
func tryLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	switch err {
	case nil:
		return f, nil
	case syscall.EWOULDBLOCK:
		f.Close()
		return nil, nil
	default:
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
}
