package kafkaio

import (
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
)

// highWater is the range-end estimate of a growing partition: its last seen high-water mark.
type highWater struct{ v atomic.Int64 }

func (h *highWater) Estimate() int64 { return h.v.Load() }

func (h *highWater) raise(v int64) {
	for {
		cur := h.v.Load()
		if v <= cur || h.v.CompareAndSwap(cur, v) {
			return
		}
	}
}

// partitionTracker is a GrowableTracker that refuses dynamic splits: only self-checkpoints
// (fraction 0) split it, so the records of a partition are handled in order, one bundle at a
// time, which is what the sinks' offset commits rely on.
type partitionTracker struct {
	*offsetrange.GrowableTracker
	hwm *highWater
}

func (t *partitionTracker) TrySplit(fraction float64) (primary, residual any, err error) {
	if fraction > 0 {
		return t.GetRestriction(), nil, nil
	}
	return t.GrowableTracker.TrySplit(fraction)
}

// eventTimeEstimator is the restriction's watermark in Unix milliseconds; it only moves forward.
type eventTimeEstimator struct {
	Watermark int64 // mtime milliseconds; int64 so the SDK can keep it across checkpoints
}

func (e *eventTimeEstimator) CurrentWatermark() time.Time { return mtime.Time(e.Watermark).ToTime() }

func (e *eventTimeEstimator) advance(ms int64) {
	if ms > e.Watermark {
		e.Watermark = ms
	}
}
