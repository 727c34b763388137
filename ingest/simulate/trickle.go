package simulate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// trickleTick is how often Trickle sends what has come due; maxLag is how far behind schedule it
// may fall (after a collector outage) before it skips ahead instead of bursting.
const (
	trickleTick = 250 * time.Millisecond
	maxLag      = 2 * time.Second
)

// liveSession is a session in progress in Trickle: its remaining events.
type liveSession struct{ events []Event }

// Trickle sends live traffic at TrickleRate events per second, stamped with the current time,
// until ctx ends; then it returns nil. Residents are drawn by their activity from the same city
// and behaviour model as the history; about TrickleRate sessions run at once, interleaved. Ids
// are random, from a generator seeded with Seed and the start time, so two runs never repeat a
// message id. It returns an error only when the collector refuses a request outright
// (ErrRejectedRequest); batches that exhaust their retries are logged and dropped.
func (s *Simulator) Trickle(ctx context.Context) error {
	if s.cfg.TrickleRate <= 0 {
		return fmt.Errorf("sim-trickle-rate %g: want a positive rate", s.cfg.TrickleRate)
	}
	started := time.Now()
	r := rand.New(rand.NewPCG(uint64(s.cfg.Seed), uint64(started.UnixNano())))
	st := newRunState(len(s.residents))
	live := make([]liveSession, max(1, int(math.Ceil(s.cfg.TrickleRate))))
	maxActivity := 0.0
	for i := range s.residents {
		maxActivity = math.Max(maxActivity, s.residents[i].activity)
	}

	var stats Stats
	defer func() {
		stats.Duration = time.Since(started)
		s.log.Info("trickle stopped", "events", stats.Sent, "accepted", stats.Accepted,
			"rejected", stats.Rejected, "retried", stats.Retried)
	}()
	s.log.Info("trickle started", "url", s.batchURL, "rate", s.cfg.TrickleRate)

	tick := time.NewTicker(trickleTick)
	defer tick.Stop()
	emitted := 0
	batch := make([]Event, 0, s.cfg.BatchSize)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		due := int(s.cfg.TrickleRate*now.Sub(started).Seconds()) - emitted
		if lagMax := int(s.cfg.TrickleRate * maxLag.Seconds()); due > lagMax+1 {
			emitted += due - lagMax
			due = lagMax
		}
		for ; due > 0; due-- {
			k := r.IntN(len(live))
			if len(live[k].events) == 0 {
				live[k].events = s.newLiveSession(live[k].events[:0], r, st, maxActivity, now)
			}
			e := live[k].events[0]
			live[k].events = live[k].events[1:]
			e.Timestamp = now.Truncate(time.Millisecond)
			e.MessageID = randomUUID(r)
			batch = append(batch, e)
			emitted++
			if len(batch) == s.cfg.BatchSize || due == 1 {
				if err := s.sendLive(ctx, batch, &stats); err != nil || ctx.Err() != nil {
					return err
				}
				batch = batch[:0]
			}
		}
	}
}

// sendLive sends one live batch; only a refused request is an error.
func (s *Simulator) sendLive(ctx context.Context, batch []Event, stats *Stats) error {
	res, err := s.send(ctx, batch, true)
	stats.Retried += res.retries
	res.retries = 0
	switch {
	case err == nil:
		stats.add(len(batch), res)
	case ctx.Err() != nil:
	case errors.Is(err, ErrRejectedRequest):
		return fmt.Errorf("trickle: %w", err)
	default:
		s.log.Warn("trickle batch dropped", "events", len(batch), "err", err)
	}
	return nil
}

// newLiveSession draws a resident by activity (rejection sampling) and appends the events of one
// session of theirs starting now.
func (s *Simulator) newLiveSession(out []Event, r *rand.Rand, st *runState, maxActivity float64, now time.Time) []Event {
	i := r.IntN(len(s.residents))
	for try := 0; try < 64 && r.Float64()*maxActivity >= s.residents[i].activity; try++ {
		i = r.IntN(len(s.residents))
	}
	res := &s.residents[i]
	dev := s.pickDevice(r, res)
	return s.session(out, r, st, i, dev, dayNumber(now), isWeekend(now), now, randomUUID(r))
}
