package scheduler

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Clock is the scheduler's time: when firings are due, leases expire and retries may start. Tests
// pass a fake one (WithClock) to step through days without waiting.
type Clock interface {
	Now() time.Time
	// After delivers once d has passed on this clock.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
