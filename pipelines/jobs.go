package pipelines

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines/deadletters"
	"github.com/citypulse/citypulse/pipelines/events"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// Pipeline names, as in log lines and the pipeline label of the runner's metrics.
const (
	PipelineEvents    = "events"
	PipelineBadEvents = "bad_events"
)

// job is one pipeline the Runner drives each turn: the topic it reads, the consumer group whose
// committed offsets mark what it has written, how to build a run over some ranges, where the
// ranges it read go in the turn's Result, and where its Beam counters go (by namespace and
// name). Each job has its own group, so one job's failure neither commits nor holds back the
// other's progress.
type job struct {
	name     string
	topic    string
	group    string
	build    func(s beam.Scope, ranges []kafkaio.OffsetRange)
	ranges   func(*Result) *[]kafkaio.OffsetRange
	counters map[metrics.StepKey]func(*Result) *int64 // Step is left empty
}

// pipelineJobs returns the runner's pipelines in the order a turn runs them: events first, so
// the dead letters it produces are stored by the bad-events pipeline in the same turn.
func (r *Runner) pipelineJobs() []job {
	key := func(ns, name string) metrics.StepKey { return metrics.StepKey{Namespace: ns, Name: name} }
	return []job{{
		name:  PipelineEvents,
		topic: bus.EventsTopic,
		group: r.cfg.Group,
		build: func(s beam.Scope, ranges []kafkaio.OffsetRange) {
			events.Build(s, ranges, events.Options{
				Brokers: r.bus.Brokers, DLQTopic: bus.DLQTopic, Warehouse: r.wh,
				Timezone: r.cfg.Timezone, BatchRows: r.cfg.BatchRows,
			})
		},
		ranges: func(x *Result) *[]kafkaio.OffsetRange { return &x.Ranges },
		counters: map[metrics.StepKey]func(*Result) *int64{
			key("events", events.CounterRead):        func(x *Result) *int64 { return &x.Read },
			key("events", events.CounterDuplicates):  func(x *Result) *int64 { return &x.Duplicates },
			key("events", events.CounterWritten):     func(x *Result) *int64 { return &x.Written },
			key("events", events.CounterDeadLetters): func(x *Result) *int64 { return &x.DeadLetters },
			key("events", events.CounterDays):        func(x *Result) *int64 { return &x.Days },
		},
	}, {
		name:  PipelineBadEvents,
		topic: bus.DLQTopic,
		group: r.cfg.DLQGroup,
		build: func(s beam.Scope, ranges []kafkaio.OffsetRange) {
			deadletters.Build(s, ranges, deadletters.Options{
				Brokers: r.bus.Brokers, Warehouse: r.wh, Timezone: r.cfg.Timezone, BatchRows: r.cfg.BatchRows,
			})
		},
		ranges: func(x *Result) *[]kafkaio.OffsetRange { return &x.BadEvents.Ranges },
		counters: map[metrics.StepKey]func(*Result) *int64{
			key(deadletters.Namespace, deadletters.CounterRead):        func(x *Result) *int64 { return &x.BadEvents.Read },
			key(deadletters.Namespace, deadletters.CounterUndecodable): func(x *Result) *int64 { return &x.BadEvents.Undecodable },
			key(deadletters.Namespace, deadletters.CounterWritten):     func(x *Result) *int64 { return &x.BadEvents.Written },
		},
	}}
}

// stage names the records metric's stage label for a job's counter.
var stages = map[string]string{
	events.CounterRead:             "read",
	events.CounterDuplicates:       "duplicate",
	events.CounterWritten:          "written",
	events.CounterDeadLetters:      "dead_letter",
	deadletters.CounterUndecodable: "undecodable",
}
