package scheduler

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/citypulse/citypulse/pipelines/scheduler/cron"
)

// ErrCycle is matched by the error of a declaration whose dependencies form a cycle; the
// message names the cycle (a → b → a).
var ErrCycle = errors.New("job dependencies form a cycle")

var jobNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// job is a declaration with its defaults applied and its schedule and zone resolved.
type job struct {
	Job
	loc         *time.Location
	sched       *cron.Schedule // nil: no schedule
	maxAttempts int
	rank        int      // position in the topological order
	downstream  []string // transitive dependents, in topological order
}

// dag is a validated set of jobs.
type dag struct {
	jobs  map[string]*job
	order []string // topological: every job after its dependencies; ties by name
}

// CheckJobs validates declarations as New would with cfg: names, schedules, zones, partitions,
// dependencies (declared, same partition and zone, no cycle). It reports every problem.
func CheckJobs(cfg Config, jobs []Job) error {
	_, err := newDAG(cfg, jobs)
	return err
}

func newDAG(cfg Config, decls []Job) (*dag, error) {
	d := &dag{jobs: map[string]*job{}}
	var errs []error
	for _, decl := range decls {
		j, err := resolve(cfg, decl)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := d.jobs[j.Name]; dup {
			errs = append(errs, fmt.Errorf("job %s: declared twice", j.Name))
			continue
		}
		d.jobs[j.Name] = j
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, name := range d.names() {
		j := d.jobs[name]
		for _, dep := range j.DependsOn {
			up, ok := d.jobs[dep]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("job %s: depends on %q, which is not declared: %w", name, dep, ErrUnknownJob))
			case dep == name:
				errs = append(errs, fmt.Errorf("job %s: depends on itself (%s → %s): %w", name, name, name, ErrCycle))
			case up.Partition != j.Partition:
				errs = append(errs, fmt.Errorf("job %s: depends on %s, whose partition is %s, not %s: a dependency must compute the same logical times", name, dep, up.Partition, j.Partition))
			case up.loc.String() != j.loc.String():
				errs = append(errs, fmt.Errorf("job %s: depends on %s, whose zone is %s, not %s: a dependency must compute the same logical times", name, dep, up.loc, j.loc))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cycle := d.findCycle(); cycle != nil {
		return nil, fmt.Errorf("%w: %s", ErrCycle, strings.Join(cycle, " → "))
	}
	d.sortTopologically()
	for _, name := range d.order {
		d.jobs[name].downstream = d.downstreamOf(name)
	}
	return d, nil
}

// resolve checks one declaration and applies the defaults.
func resolve(cfg Config, decl Job) (*job, error) {
	if !jobNameRE.MatchString(decl.Name) {
		return nil, fmt.Errorf("job %q: name: want 1-64 of a-z, 0-9, _ and -, starting with a letter or digit", decl.Name)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("job %s: %s", decl.Name, fmt.Sprintf(format, args...))
	}
	j := &job{Job: decl}
	j.DependsOn = slices.Clone(decl.DependsOn)
	if j.Run == nil {
		return nil, fail("no run function")
	}
	if j.Timezone == "" {
		j.Timezone = cfg.Timezone
	}
	loc, err := time.LoadLocation(j.Timezone)
	if err != nil || j.Timezone == "" {
		return nil, fail("timezone %q: want an IANA zone name such as Asia/Shanghai", j.Timezone)
	}
	j.loc = loc
	if j.Schedule != "" {
		if j.sched, err = cron.Parse(j.Schedule); err != nil {
			return nil, fail("schedule: %v", err)
		}
	}
	switch j.Partition {
	case "":
		j.Partition = Day
	case Day, Hour, Instant:
	default:
		return nil, fail("partition %q: want day, hour or instant", j.Partition)
	}
	if j.Partition == Instant && len(j.DependsOn) > 0 {
		return nil, fail("an instant job cannot depend on others (instants of different jobs do not line up)")
	}
	if j.Timeout < 0 || j.Backoff < 0 || j.MaxBackoff < 0 {
		return nil, fail("timeout, backoff and max backoff must not be negative")
	}
	if j.Timeout == 0 {
		j.Timeout = cfg.DefaultTimeout
	}
	if j.Backoff == 0 {
		j.Backoff = cfg.DefaultBackoff
	}
	if j.MaxBackoff == 0 {
		j.MaxBackoff = 32 * j.Backoff
	}
	switch {
	case j.Retries == 0:
		j.Retries = cfg.DefaultRetries
	case j.Retries < 0:
		j.Retries = 0
	}
	if j.Retries > 100 {
		return nil, fail("retries %d: want at most 100", j.Retries)
	}
	j.maxAttempts = 1 + j.Retries
	seen := map[string]bool{}
	for _, dep := range j.DependsOn {
		if seen[dep] {
			return nil, fail("depends on %s twice", dep)
		}
		seen[dep] = true
	}
	return j, nil
}

func (d *dag) names() []string {
	names := make([]string, 0, len(d.jobs))
	for n := range d.jobs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// findCycle returns a dependency cycle as a path that starts and ends with the same job, or nil.
func (d *dag) findCycle() []string {
	const (
		unvisited = iota
		onPath
		done
	)
	color := map[string]int{}
	var path []string
	var visit func(string) []string
	visit = func(n string) []string {
		color[n] = onPath
		path = append(path, n)
		deps := slices.Sorted(slices.Values(d.jobs[n].DependsOn))
		for _, dep := range deps {
			switch color[dep] {
			case onPath:
				i := slices.Index(path, dep)
				cycle := append(slices.Clone(path[i:]), dep)
				slices.Reverse(cycle) // read along the arrows: upstream → downstream
				return cycle
			case unvisited:
				if c := visit(dep); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		color[n] = done
		return nil
	}
	for _, n := range d.names() {
		if color[n] == unvisited {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// sortTopologically fills order and rank (Kahn's algorithm, ties by name).
func (d *dag) sortTopologically() {
	indeg := map[string]int{}
	for _, j := range d.jobs {
		indeg[j.Name] = len(j.DependsOn)
	}
	var ready []string
	for _, n := range d.names() {
		if indeg[n] == 0 {
			ready = append(ready, n)
		}
	}
	d.order = d.order[:0]
	for len(ready) > 0 {
		slices.Sort(ready)
		n := ready[0]
		ready = ready[1:]
		d.jobs[n].rank = len(d.order)
		d.order = append(d.order, n)
		for _, m := range d.names() {
			if slices.Contains(d.jobs[m].DependsOn, n) {
				indeg[m]--
				if indeg[m] == 0 {
					ready = append(ready, m)
				}
			}
		}
	}
}

// downstreamOf returns the jobs that depend on name directly or through others, in
// topological order.
func (d *dag) downstreamOf(name string) []string {
	in := map[string]bool{name: true}
	var out []string
	for _, n := range d.order {
		if n == name {
			continue
		}
		for _, dep := range d.jobs[n].DependsOn {
			if in[dep] {
				in[n] = true
				out = append(out, n)
				break
			}
		}
	}
	return out
}
