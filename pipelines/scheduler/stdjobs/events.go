package stdjobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/scheduler"
)

// eventsLanded waits until the events pipeline's consumer group has committed, on every
// partition of the events topic, the end offset the partition had when the run began: every
// event received until then (so every event of the run's day not arriving late) is in
// dwd_events. Rows are the records it waited for. A missing topic has nothing to wait for.
func eventsLanded(deps Deps, poll time.Duration) scheduler.RunFunc {
	return func(ctx context.Context, run scheduler.Run) (scheduler.RunResult, error) {
		cl, err := bus.NewClient(deps.Bus)
		if err != nil {
			return scheduler.RunResult{}, err
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		targets, err := endOffsets(ctx, adm, deps.Bus.Topics().Events())
		if err != nil {
			return scheduler.RunResult{}, err
		}
		var first int64 = -1
		for {
			behind, err := lag(ctx, adm, deps.EventsGroup, deps.Bus.Topics().Events(), targets)
			if err != nil {
				return scheduler.RunResult{}, err
			}
			if first < 0 {
				first = behind
				run.Log.Info("waiting for the events pipeline", "group", deps.EventsGroup, "partitions", len(targets), "behind", behind)
			}
			if behind == 0 {
				return scheduler.RunResult{Rows: first, Message: fmt.Sprintf("events pipeline caught up (%d records were unwritten)", first)}, nil
			}
			select {
			case <-ctx.Done():
				return scheduler.RunResult{}, fmt.Errorf("events pipeline (group %s) still %d records behind the offsets of the run's start: %w",
					deps.EventsGroup, behind, ctx.Err())
			case <-time.After(poll):
			}
		}
	}
}

// endOffsets returns each partition's current end offset, above its start (empty partitions
// are left out); none for a missing topic.
func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]target, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return map[int32]target{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	out := map[int32]target{}
	ends.Each(func(e kadm.ListedOffset) {
		start := int64(0)
		if s, ok := starts.Lookup(topic, e.Partition); ok {
			start = s.Offset
		}
		if e.Offset > start {
			out[e.Partition] = target{start: start, end: e.Offset}
		}
	})
	return out, nil
}

type target struct{ start, end int64 }

// lag sums, over the targets, how far the group's committed offsets are below their ends.
func lag(ctx context.Context, adm *kadm.Client, group, topic string, targets map[int32]target) (int64, error) {
	if len(targets) == 0 {
		return 0, nil
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return 0, fmt.Errorf("fetch committed offsets of group %s: %w", group, err)
	}
	var behind int64
	for p, t := range targets {
		at := t.start
		if c, ok := committed.Lookup(topic, p); ok && c.Err == nil && c.At > at {
			at = c.At
		}
		behind += max(t.end-at, 0)
	}
	return behind, nil
}
