package simulate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Stats counts what a History or Trickle run sent.
type Stats struct {
	Sent     int // events sent (each once, however many attempts it took)
	Batches  int
	Accepted int // events the collector accepted
	Rejected int // events the collector listed as rejected
	Retried  int // requests repeated after 429, 5xx or a transport error
	Duration time.Duration
	// RejectionSamples holds the first few rejection entries as the collector wrote them.
	RejectionSamples []string
}

func (st *Stats) add(n int, r batchResult) {
	st.Sent += n
	st.Batches++
	st.Accepted += r.accepted
	st.Rejected += r.rejected
	st.Retried += r.retries
	for _, s := range r.samples {
		if len(st.RejectionSamples) < maxSamples {
			st.RejectionSamples = append(st.RejectionSamples, s)
		}
	}
}

// History sends the whole history (Generate) to the collector in batches of BatchSize with
// Concurrency requests in flight. progress, if not nil, is called after every batch with the
// events sent so far and the total (counted by a first pass); calls never overlap. It stops at
// the first batch that cannot be delivered and returns the stats so far with the error.
func (s *Simulator) History(ctx context.Context, progress func(sent, total int)) (Stats, error) {
	began := time.Now()
	total := 0
	if progress != nil {
		total = s.Total()
		progress(0, total)
	}
	s.log.Info("sending history", "url", s.batchURL, "residents", s.cfg.Residents, "days", s.cfg.Days,
		"from", s.start.Format(time.DateOnly), "to", s.end.Format(time.DateOnly))

	var (
		mu    sync.Mutex
		stats Stats
	)
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []Event, s.cfg.Concurrency)
	g.Go(func() error {
		defer close(batches)
		batch := make([]Event, 0, s.cfg.BatchSize)
		for e := range s.Generate {
			batch = append(batch, e)
			if len(batch) < s.cfg.BatchSize {
				continue
			}
			select {
			case batches <- batch:
			case <-gctx.Done():
				return nil // a sender failed or ctx ended; that error is the one to report
			}
			batch = make([]Event, 0, s.cfg.BatchSize)
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-gctx.Done():
			}
		}
		return nil
	})
	for range s.cfg.Concurrency {
		g.Go(func() error {
			for b := range batches {
				r, err := s.send(gctx, b, false)
				mu.Lock()
				stats.Retried += r.retries
				if err == nil {
					r.retries = 0
					stats.add(len(b), r)
					if progress != nil {
						progress(stats.Sent, total)
					}
				}
				mu.Unlock()
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	stats.Duration = time.Since(began)
	if err != nil {
		return stats, fmt.Errorf("history: %w", err)
	}
	s.log.Info("history sent", "events", stats.Sent, "accepted", stats.Accepted, "rejected", stats.Rejected,
		"retried", stats.Retried, "batches", stats.Batches, "duration", stats.Duration.Round(time.Millisecond))
	if stats.Rejected > 0 {
		s.log.Warn("collector rejected events", "rejected", stats.Rejected, "samples", stats.RejectionSamples)
	}
	return stats, nil
}
