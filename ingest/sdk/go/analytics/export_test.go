package analytics

import (
	"context"
	"time"
)

// WithSleep replaces the wait between attempts, so tests can see the waits without taking them.
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = f }
}
