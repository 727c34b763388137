package offline

import (
	"cmp"
	"slices"
)

// step is an event that matches funnel step S (0-based) at time T.
type step struct {
	T int64
	S uint8
}

// funnelLevel is ClickHouse's windowFunnel(window)(t, step0, step1, …) over one user's events:
// the number of steps reached in order, each within window seconds of the step-0 event that
// started the chain. Events are taken in time order; an event that matches step 0 starts a new
// chain; an event of step k > 0 extends the chain that reached step k-1, keeping its start, if it
// is within the window of that start. Events of one second are taken lower steps first
// (windowFunnel takes them in row order, which a query does not fix, so the two may differ only
// for a user whose steps share a second).
func funnelLevel(events []step, steps int, window int64) int {
	if steps == 0 {
		return 0
	}
	events = slices.Clone(events)
	slices.SortFunc(events, func(a, b step) int {
		if c := cmp.Compare(a.T, b.T); c != 0 {
			return c
		}
		return cmp.Compare(a.S, b.S)
	})
	start := make([]int64, steps) // start[k]: start time of the chain that reached step k, or -1
	for k := range start {
		start[k] = -1
	}
	for _, e := range events {
		k := int(e.S)
		switch {
		case k >= steps:
		case k == 0:
			start[0] = e.T
		case start[k-1] >= 0 && e.T <= start[k-1]+window:
			start[k] = start[k-1]
			if k+1 == steps {
				return steps
			}
		}
	}
	for k := steps - 1; k >= 0; k-- {
		if start[k] >= 0 {
			return k + 1
		}
	}
	return 0
}
