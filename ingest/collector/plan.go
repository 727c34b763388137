package collector

import (
	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/internal/bus"
)

// PlanVerdict is what the tracking plan says of one event.
type PlanVerdict struct {
	// Reject, when not nil, sends the event to the dead-letter topic instead of the events topic.
	// The collector fills in Index, MessageID and Raw; Code defaults to event.CodePlan. The
	// checker sets Field, Event, Rule and Reason.
	Reject *event.Rejection
	// Flags are findings on an event the plan lets through; they are appended to e.PlanFlags.
	Flags []string
}

// PlanChecker judges events against the active tracking plan; it must be safe for concurrent use and fast (it runs per event).
type PlanChecker interface {
	Check(source string, e *event.Event) PlanVerdict
}

// Option changes how New builds a Collector.
type Option func(*options)

type options struct {
	plan   PlanChecker
	topics bus.Topics
}

// WithTopics makes the collector produce to topics' names (bus.Config.Topics: the events and
// dead-letter topics under the installation's topic prefix). Default: the zero bus.Topics,
// citypulse.events.v1 and citypulse.events.dlq.v1.
func WithTopics(topics bus.Topics) Option {
	return func(o *options) { o.topics = topics }
}

// WithPlanChecker makes the collector judge every valid event with pc after parsing and
// enrichment and before producing it. Default: no tracking plan, every valid event is accepted.
func WithPlanChecker(pc PlanChecker) Option {
	return func(o *options) { o.plan = pc }
}

// checkPlan runs the plan checker over evs (in batch order) and moves the rejected events into
// rejs, keeping both in batch order. An event's batch index is the n-th index not taken by a
// parse rejection, since ParseBatch keeps both lists in batch order.
func (c *Collector) checkPlan(source string, evs []event.Event, rejs []event.Rejection) ([]event.Event, []event.Rejection) {
	if c.plan == nil || len(evs) == 0 {
		return evs, rejs
	}
	kept := evs[:0]
	var planRejs []event.Rejection
	index, r := 0, 0
	for i := range evs {
		for r < len(rejs) && rejs[r].Index == index {
			r++
			index++
		}
		ev := &evs[i]
		v := c.plan.Check(source, ev)
		if len(v.Flags) > 0 {
			ev.PlanFlags = append(ev.PlanFlags, v.Flags...)
			for _, f := range v.Flags {
				c.m.flagged.WithLabelValues(f).Inc()
			}
		}
		if v.Reject != nil {
			rej := *v.Reject
			rej.Index, rej.MessageID = index, ev.MessageID
			if rej.Code == "" {
				rej.Code = event.CodePlan
			}
			if rej.Event == "" {
				rej.Event = ev.Event
			}
			if raw, err := c.encodeEvent(ev); err == nil {
				rej.Raw = raw
			}
			planRejs = append(planRejs, rej)
		} else {
			kept = append(kept, *ev)
		}
		index++
	}
	if len(planRejs) == 0 {
		return kept, rejs
	}
	return kept, mergeRejections(rejs, planRejs)
}

// mergeRejections merges two lists sorted by Index.
func mergeRejections(a, b []event.Rejection) []event.Rejection {
	out := make([]event.Rejection, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Index <= b[0].Index {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	out = append(out, a...)
	return append(out, b...)
}
