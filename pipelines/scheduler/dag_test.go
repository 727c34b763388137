package scheduler

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func nop(context.Context, Run) (RunResult, error) { return RunResult{}, nil }

func TestCheckJobs(t *testing.T) {
	j := func(name string, deps ...string) Job { return Job{Name: name, DependsOn: deps, Run: nop} }
	tests := []struct {
		name string
		jobs []Job
		want []string // substrings of the error; none: valid
		is   error
	}{
		{"valid DAG", []Job{j("a"), j("b", "a"), j("c", "a", "b")}, nil, nil},
		{"cycle", []Job{j("a", "c"), j("b", "a"), j("c", "b"), j("d")}, []string{"a → b → c → a"}, ErrCycle},
		{"two-cycle", []Job{j("x", "y"), j("y", "x")}, []string{"x → y → x"}, ErrCycle},
		{"self", []Job{j("a", "a")}, []string{"depends on itself (a → a)"}, ErrCycle},
		{"unknown dependency", []Job{j("a", "ghost")}, []string{`depends on "ghost", which is not declared`}, ErrUnknownJob},
		{"duplicate", []Job{j("a"), j("a")}, []string{"job a: declared twice"}, nil},
		{"bad name", []Job{j("Daily Job")}, []string{`job "Daily Job": name`}, nil},
		{"no run", []Job{{Name: "a"}}, []string{"job a: no run function"}, nil},
		{"bad schedule", []Job{{Name: "a", Schedule: "61 * * * *", Run: nop}}, []string{"job a: schedule", "minute field"}, nil},
		{"bad zone", []Job{{Name: "a", Timezone: "Mars/Olympus", Run: nop}}, []string{`timezone "Mars/Olympus"`}, nil},
		{"bad partition", []Job{{Name: "a", Partition: "week", Run: nop}}, []string{`partition "week"`}, nil},
		{"partition mismatch", []Job{{Name: "h", Partition: Hour, Run: nop}, j("d", "h")}, []string{"partition is hour, not day"}, nil},
		{"zone mismatch", []Job{{Name: "u", Timezone: "UTC", Run: nop}, j("d", "u")}, []string{"zone is UTC, not Asia/Shanghai"}, nil},
		{"instant with deps", []Job{j("a"), {Name: "i", Partition: Instant, DependsOn: []string{"a"}, Run: nop}}, []string{"instant job cannot depend"}, nil},
		{"negative timeout", []Job{{Name: "a", Timeout: -time.Second, Run: nop}}, []string{"must not be negative"}, nil},
		{"every problem", []Job{{Name: "a"}, {Name: "b", Schedule: "x", Run: nop}}, []string{"job a: no run", "job b: schedule"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckJobs(DefaultConfig(), tc.jobs)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not match %v", err, tc.is)
			}
		})
	}
}

func TestTopologicalOrderAndDownstream(t *testing.T) {
	jobs := []Job{
		{Name: "profiles", DependsOn: []string{"daily", "tags"}, Run: nop},
		{Name: "tags", DependsOn: []string{"daily"}, Run: nop},
		{Name: "daily", DependsOn: []string{"events"}, Run: nop},
		{Name: "events", Run: nop},
		{Name: "quality", Run: nop},
	}
	d, err := newDAG(DefaultConfig(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"events", "daily", "quality", "tags", "profiles"}; !slices.Equal(d.order, want) {
		t.Errorf("order %v, want %v", d.order, want)
	}
	if got, want := d.jobs["events"].downstream, []string{"daily", "tags", "profiles"}; !slices.Equal(got, want) {
		t.Errorf("downstream of events %v, want %v", got, want)
	}
	if got := d.jobs["profiles"].downstream; len(got) != 0 {
		t.Errorf("downstream of profiles %v, want none", got)
	}
}

func TestDefaultsApplied(t *testing.T) {
	cfg := DefaultConfig()
	d, err := newDAG(cfg, []Job{
		{Name: "a", Run: nop},
		{Name: "b", Run: nop, Retries: NoRetries, Timeout: time.Hour, Backoff: time.Second},
		{Name: "c", Run: nop, Retries: 5, MaxBackoff: 3 * time.Second, Backoff: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := d.jobs["a"], d.jobs["b"], d.jobs["c"]
	if a.Partition != Day || a.loc.String() != "Asia/Shanghai" || a.Timeout != cfg.DefaultTimeout || a.maxAttempts != 1+cfg.DefaultRetries || a.Backoff != cfg.DefaultBackoff {
		t.Errorf("defaults of a: %+v", a)
	}
	if b.maxAttempts != 1 || b.Timeout != time.Hour {
		t.Errorf("b: %d attempts, timeout %s; want 1, 1h", b.maxAttempts, b.Timeout)
	}
	var waits []time.Duration
	for n := 1; n <= 4; n++ {
		waits = append(waits, backoff(c, n))
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("backoffs %v, want %v", waits, want)
	}
}

func TestPartitions(t *testing.T) {
	d, err := newDAG(DefaultConfig(), []Job{
		{Name: "day", Run: nop},
		{Name: "hour", Partition: Hour, Run: nop},
		{Name: "inst", Partition: Instant, Schedule: "0 */6 * * *", Run: nop},
	})
	if err != nil {
		t.Fatal(err)
	}
	fire := at(t, "2024-05-02 00:30")
	tests := []struct {
		job, want string
	}{{"day", "2024-05-01"}, {"hour", "2024-05-01T23:00"}, {"inst", "2024-05-02T00:30"}}
	for _, tc := range tests {
		j := d.jobs[tc.job]
		if got := j.format(j.logicalOf(fire)); got != tc.want {
			t.Errorf("%s firing at %s computes %s, want %s", tc.job, fire, got, tc.want)
		}
	}
	ranges := []struct {
		job, from, to string
		n             int
		first, last   string
		err           string
	}{
		{"day", "2024-05-01", "2024-05-03", 3, "2024-05-01", "2024-05-03", ""},
		{"day", "2024-05-01T10:00", "2024-05-01", 1, "2024-05-01", "2024-05-01", ""},
		{"hour", "2024-05-01", "2024-05-01", 24, "2024-05-01T00:00", "2024-05-01T23:00", ""},
		{"hour", "2024-05-01T10:00", "2024-05-01T12:00", 3, "2024-05-01T10:00", "2024-05-01T12:00", ""},
		{"hour", "2024-05-01T02:00:00Z", "2024-05-01T03:00:00Z", 2, "2024-05-01T10:00", "2024-05-01T11:00", ""}, // RFC 3339 in UTC
		{"inst", "2024-05-01", "2024-05-02", 8, "2024-05-01T00:00", "2024-05-02T18:00", ""},
		{"day", "2024-05-03", "2024-05-01", 0, "", "", "to: 2024-05-01 is before from"},
		{"day", "May 1", "2024-05-01", 0, "", "", "from: \"May 1\": want a date"},
		{"day", "2024-01-01", "2024-12-31", 0, "", "", "more than 100 runs"},
	}
	for _, tc := range ranges {
		j := d.jobs[tc.job]
		got, err := j.partitionsIn(tc.from, tc.to, 100)
		if tc.err != "" {
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %s…%s: error %v, want an InputError with %q", tc.job, tc.from, tc.to, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s…%s: %v", tc.job, tc.from, tc.to, err)
			continue
		}
		if len(got) != tc.n || j.format(got[0]) != tc.first || j.format(got[len(got)-1]) != tc.last {
			t.Errorf("%s %s…%s: %d partitions %s…%s, want %d %s…%s", tc.job, tc.from, tc.to, len(got),
				j.format(got[0]), j.format(got[len(got)-1]), tc.n, tc.first, tc.last)
		}
	}
}
