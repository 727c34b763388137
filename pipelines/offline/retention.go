package offline

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/citypulse/citypulse/pipelines/chsource"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*cohortAcc)(nil)).Elem())
	register.DoFn3x0[int, func(*keyedBatch) bool, func(string, cohortAcc)](&cohortFn{})
	register.Function2x1(mergeCohort)
	register.DoFn4x1[context.Context, string, cohortAcc, func(int, int64), error](&writeRetentionFn{})
	register.Emitter2[string, cohortAcc]()
}

var retentionColumns = []string{"event_date", "cohort_date", "day_n", "cohort_users", "retained_users", "computed_at"}

// cohortAcc counts a cohort's users and those of them active on the run's day.
type cohortAcc struct {
	Users, Retained uint64
}

// buildRetention: users first seen in the horizon and the day's active users, batched by user
// shard → grouped by shard, joined → per cohort.
func buildRetention(s beam.Scope, opt Options, day, stage string) error {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return err
	}
	from := d.AddDate(0, 0, -opt.RetentionDays).Format(time.DateOnly)
	active, err := chsource.Read(s.Scope("active"), opt.Warehouse, userDaysQuery(day, []chsource.Column{{Name: "user_key"}}), opt.Source)
	if err != nil {
		return err
	}
	firsts, err := chsource.Read(s.Scope("cohorts"), opt.Warehouse, firstDaysQuery(from, day), opt.Source)
	if err != nil {
		return err
	}
	shards := beam.GroupByKey(s, beam.Flatten(s,
		beam.ParDo(s.Scope("active"), &shardRowsFn{Shards: opt.Shards, Input: inputDays}, active),
		beam.ParDo(s.Scope("cohorts"), &shardRowsFn{Shards: opt.Shards, Input: inputFirsts}, firsts)))
	cohorts := beam.CombinePerKey(s, mergeCohort, beam.ParDo(s, &cohortFn{}, shards))
	drain(s, beam.ParDo(s, &writeRetentionFn{W: newSinkWriter(opt, stage, retentionColumns, day)}, cohorts))
	return nil
}

// cohortFn counts a shard's users first seen in the horizon by cohort, retained when active on
// the day; the sums go out when the bundle ends.
type cohortFn struct {
	sums map[string]*cohortAcc
}

func (f *cohortFn) StartBundle(_ func(string, cohortAcc)) { f.sums = map[string]*cohortAcc{} }

func (f *cohortFn) ProcessElement(_ int, batches func(*keyedBatch) bool, _ func(string, cohortAcc)) {
	active := map[string]bool{}
	var firsts []keyedBatch
	var b keyedBatch
	for batches(&b) {
		if b.Input == inputFirsts {
			firsts = append(firsts, b)
		} else {
			for _, k := range b.Keys {
				active[k] = true
			}
		}
	}
	for _, fb := range firsts {
		for i, key := range fb.Keys {
			sum := f.sums[fb.Str[i]]
			if sum == nil {
				sum = &cohortAcc{}
				f.sums[fb.Str[i]] = sum
			}
			sum.Users++
			if active[key] {
				sum.Retained++
			}
		}
	}
}

func (f *cohortFn) FinishBundle(emit func(string, cohortAcc)) {
	for cohort, sum := range f.sums {
		emit(cohort, *sum)
	}
	f.sums = nil
}

func mergeCohort(a, b cohortAcc) cohortAcc {
	return cohortAcc{Users: a.Users + b.Users, Retained: a.Retained + b.Retained}
}

type writeRetentionFn struct {
	W sinkWriter
}

func (f *writeRetentionFn) Setup(ctx context.Context) error { return f.W.open(ctx) }

func (f *writeRetentionFn) ProcessElement(ctx context.Context, cohort string, a cohortAcc, _ func(int, int64)) error {
	c, err := time.Parse(time.DateOnly, cohort)
	if err != nil {
		return fmt.Errorf("cohort date %q: %w", cohort, err)
	}
	n := f.W.day.Sub(c).Hours() / 24
	return f.W.write(ctx, c, uint16(n), a.Users, a.Retained)
}

func (f *writeRetentionFn) FinishBundle(ctx context.Context, emit func(int, int64)) error {
	return f.W.flush(ctx, emit)
}

func (f *writeRetentionFn) Teardown(ctx context.Context) error { return f.W.Sink.Close(ctx) }
