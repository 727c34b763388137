package pipelines

import (
	"maps"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"

	"github.com/citypulse/citypulse/pipelines/cleaning"
	"github.com/citypulse/citypulse/pipelines/deadletters"
	"github.com/citypulse/citypulse/pipelines/events"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// Pipeline names, as in log lines and the pipeline label of the runner's metrics.
const (
	PipelineEvents    = "events"
	PipelineBadEvents = "bad_events"
)

// PipelineClean is the name of a dataset's cleaning pipeline: "clean_<dataset>".
func PipelineClean(dataset string) string { return "clean_" + dataset }

// job is one pipeline the Runner drives each turn: the topic it reads, the consumer group whose
// committed offsets mark what it has written, how to build a run over some ranges, where the
// ranges it read go in the turn's Result, and where its Beam counters go (by namespace and
// name). Each job has its own group, so one job's failure neither commits nor holds back the
// other's progress.
type job struct {
	name  string
	topic string
	group string
	// absentOK: a missing topic means nothing to read yet (feed topics are created by the
	// feeds gateway when a dataset's first batch comes).
	absentOK bool
	build    func(s beam.Scope, ranges []kafkaio.OffsetRange) error
	ranges   func(*Result) *[]kafkaio.OffsetRange
	counters map[metrics.StepKey]func(*Result) *int64 // Step is left empty
}

// pipelineJobs returns the runner's pipelines in the order a turn runs them: events first, so
// the dead letters it produces are stored by the bad-events pipeline in the same turn.
func (r *Runner) pipelineJobs() []job {
	key := func(ns, name string) metrics.StepKey { return metrics.StepKey{Namespace: ns, Name: name} }
	return []job{{
		name:  PipelineEvents,
		topic: r.bus.Topics().Events(),
		group: r.cfg.Group,
		build: func(s beam.Scope, ranges []kafkaio.OffsetRange) error {
			events.Build(s, ranges, events.Options{
				Brokers: r.bus.Brokers, DLQTopic: r.bus.Topics().DLQ(), Warehouse: r.wh,
				Timezone: r.cfg.Timezone, BatchRows: r.cfg.BatchRows,
			})
			return nil
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
		topic: r.bus.Topics().DLQ(),
		group: r.cfg.DLQGroup,
		build: func(s beam.Scope, ranges []kafkaio.OffsetRange) error {
			deadletters.Build(s, ranges, deadletters.Options{
				Brokers: r.bus.Brokers, Warehouse: r.wh, Timezone: r.cfg.Timezone, BatchRows: r.cfg.BatchRows,
			})
			return nil
		},
		ranges: func(x *Result) *[]kafkaio.OffsetRange { return &x.BadEvents.Ranges },
		counters: map[metrics.StepKey]func(*Result) *int64{
			key(deadletters.Namespace, deadletters.CounterRead):        func(x *Result) *int64 { return &x.BadEvents.Read },
			key(deadletters.Namespace, deadletters.CounterUndecodable): func(x *Result) *int64 { return &x.BadEvents.Undecodable },
			key(deadletters.Namespace, deadletters.CounterWritten):     func(x *Result) *int64 { return &x.BadEvents.Written },
		},
	}}
}

// cleanJobs returns one cleaning pipeline per dataset of cleaning.Specs, in name order.
func (r *Runner) cleanJobs() []job {
	key := func(ns, name string) metrics.StepKey { return metrics.StepKey{Namespace: ns, Name: name} }
	var jobs []job
	for _, ds := range slices.Sorted(maps.Keys(cleaning.Specs)) {
		at := func(x *Result) *CleanResult { return x.clean(ds) }
		ns := cleaning.Namespace(ds)
		jobs = append(jobs, job{
			name:     PipelineClean(ds),
			topic:    r.bus.Topics().Feeds(ds),
			group:    r.cfg.CleanGroup + "-" + ds,
			absentOK: true,
			build: func(s beam.Scope, ranges []kafkaio.OffsetRange) error {
				return cleaning.Build(s, ranges, cleaning.Options{Brokers: r.bus.Brokers, Warehouse: r.wh,
					Dataset: ds, HashKey: r.cfg.CleanHashKey, EncryptionKey: r.cfg.CleanEncryptionKey,
					EncryptionKeyID: r.cfg.CleanEncryptionKeyID, BatchRows: r.cfg.BatchRows})
			},
			ranges: func(x *Result) *[]kafkaio.OffsetRange { return &at(x).Ranges },
			counters: map[metrics.StepKey]func(*Result) *int64{
				key(ns, cleaning.CounterRead):                                  func(x *Result) *int64 { return &at(x).Read },
				key(ns, cleaning.CounterValid):                                 func(x *Result) *int64 { return &at(x).Valid },
				key(ns, cleaning.CounterQuarantined):                           func(x *Result) *int64 { return &at(x).Quarantined },
				key(ns, cleaning.CounterUndecodable):                           func(x *Result) *int64 { return &at(x).Undecodable },
				key(ns, cleaning.CounterChanges):                               func(x *Result) *int64 { return &at(x).Changes },
				key(ns, cleaning.CounterReferences):                            func(x *Result) *int64 { return &at(x).References },
				key(ns, cleaning.CounterWritten):                               func(x *Result) *int64 { return &at(x).Written },
				key(cleaning.StagedNamespace(ds), cleaning.CounterWritten):     func(x *Result) *int64 { return &at(x).StagedRows },
				key(cleaning.QuarantineNamespace(ds), cleaning.CounterWritten): func(x *Result) *int64 { return &at(x).QuarantineRows },
			},
		})
	}
	return jobs
}

// stage names the records metric's stage label for a job's counter.
var stages = map[string]string{
	events.CounterRead:             "read",
	events.CounterDuplicates:       "duplicate",
	events.CounterWritten:          "written",
	events.CounterDeadLetters:      "dead_letter",
	deadletters.CounterUndecodable: "undecodable",
	cleaning.CounterValid:          "valid",
	cleaning.CounterQuarantined:    "quarantined",
	cleaning.CounterChanges:        "staged_change",
	cleaning.CounterReferences:     "staged_reference",
}
