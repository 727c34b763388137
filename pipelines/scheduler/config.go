package scheduler

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Config configures a Scheduler. Every field has a flag; DefaultConfig gives working values.
type Config struct {
	// Instance names this scheduler in leases and attempt records; "" is host name + process
	// id + a random suffix. Two live instances must not share a name.
	Instance string `flag:"scheduler-instance" help:"name of this scheduler instance in leases and run records (default: host-pid-random)"`
	// Timezone is the zone of job schedules and logical times when a job names none.
	Timezone string `flag:"scheduler-timezone" help:"time zone of job schedules and logical dates (IANA name)"`
	// PollInterval is how often the scheduler looks for due firings and runnable runs (a run
	// finishing also wakes it at once), and at most how long a running run takes to notice a
	// cancel request (its lease is renewed every min(PollInterval, LeaseTTL/3)).
	PollInterval time.Duration `flag:"scheduler-poll" help:"how often the scheduler looks for due and runnable runs (and running runs for cancel requests)"`
	// LeaseTTL is how long a run's lease lasts without renewal; it is renewed every third of
	// it. A crashed instance's run is taken over this long after its last renewal. Lease
	// expiry is read on each instance's clock: the instances' clocks must agree to well within
	// it (NTP does).
	LeaseTTL time.Duration `flag:"scheduler-lease-ttl" help:"lease duration of a running job run (renewed every third; a crashed holder's run is taken over after it)"`
	// CatchUp is the look-back on start: firings missed within it (while no scheduler ran) run
	// on start; older ones are dropped (backfill them). 0: none.
	CatchUp time.Duration `flag:"scheduler-catch-up" help:"look-back on start for firings missed while no scheduler ran (0: none)"`
	// Concurrency is how many runs this instance executes at once.
	Concurrency int `flag:"scheduler-concurrency" help:"runs one scheduler instance executes at once"`
	// DependencyWait is how long a run waits for a dependency that has no run at all for its
	// logical time before it is skipped.
	DependencyWait time.Duration `flag:"scheduler-dependency-wait" help:"how long a run waits for a dependency that has no run for its logical time before it is skipped"`
	// DefaultTimeout, DefaultRetries and DefaultBackoff apply to jobs that set none.
	DefaultTimeout time.Duration `flag:"scheduler-default-timeout" help:"time limit of one attempt of a job that sets none"`
	DefaultRetries int           `flag:"scheduler-default-retries" help:"retries of a failed run of a job that sets none"`
	DefaultBackoff time.Duration `flag:"scheduler-default-backoff" help:"pause before the first retry of a job that sets none (doubles per retry)"`
	// MaxLogLines bounds the log lines kept per attempt (the last ones; earlier ones are
	// counted); each line is cut at 1 KiB.
	MaxLogLines int `flag:"scheduler-max-log-lines" help:"log lines kept per run attempt in the metadata store (the last ones)"`
	// KeepHistory is how long run history is kept whole: older attempt logs are emptied and
	// older runs that a rerun replaced are deleted (the newest run of each job and logical time
	// stays). 0 keeps everything.
	KeepHistory time.Duration `flag:"scheduler-keep-history" help:"age after which attempt logs are emptied and rerun-replaced runs deleted (0: keep all)"`
	// MaxBackfill bounds the runs one backfill or trigger may enqueue.
	MaxBackfill int `flag:"scheduler-max-backfill" help:"most runs one backfill may enqueue"`
	// JobsFile is a YAML file of job declarations that override or add to the built-in ones
	// (see LoadYAML); "" for none.
	JobsFile string `flag:"scheduler-jobs-file" help:"YAML file overriding or adding job declarations (schedules, timeouts, retries, disabled)"`
}

// DefaultConfig: Asia/Shanghai, poll every 5 s, 30 s leases, three days of catch-up, two runs
// at once, 30-minute attempts with 2 retries from 1 minute, 90 days of whole history.
func DefaultConfig() Config {
	return Config{
		Timezone:       "Asia/Shanghai",
		PollInterval:   5 * time.Second,
		LeaseTTL:       30 * time.Second,
		CatchUp:        72 * time.Hour,
		Concurrency:    2,
		DependencyWait: 24 * time.Hour,
		DefaultTimeout: 30 * time.Minute,
		DefaultRetries: 2,
		DefaultBackoff: time.Minute,
		MaxLogLines:    200,
		KeepHistory:    90 * 24 * time.Hour,
		MaxBackfill:    1000,
	}
}

// Validate names every bad field by its flag.
func (c Config) Validate() error {
	var errs []error
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		errs = append(errs, fmt.Errorf("scheduler-timezone %q: want an IANA zone name such as Asia/Shanghai", c.Timezone))
	}
	pos := []struct {
		flag string
		d    time.Duration
	}{
		{"scheduler-poll", c.PollInterval}, {"scheduler-lease-ttl", c.LeaseTTL},
		{"scheduler-dependency-wait", c.DependencyWait}, {"scheduler-default-timeout", c.DefaultTimeout},
		{"scheduler-default-backoff", c.DefaultBackoff},
	}
	for _, p := range pos {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: want a positive duration", p.flag, p.d))
		}
	}
	if c.LeaseTTL > 0 && c.LeaseTTL < 3*time.Millisecond {
		errs = append(errs, fmt.Errorf("scheduler-lease-ttl %s: too short to renew", c.LeaseTTL))
	}
	if c.CatchUp < 0 {
		errs = append(errs, fmt.Errorf("scheduler-catch-up %s: want 0 or a positive duration", c.CatchUp))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("scheduler-concurrency %d: want ≥ 1", c.Concurrency))
	}
	if c.DefaultRetries < 0 {
		errs = append(errs, fmt.Errorf("scheduler-default-retries %d: want ≥ 0", c.DefaultRetries))
	}
	if c.KeepHistory < 0 {
		errs = append(errs, fmt.Errorf("scheduler-keep-history %s: want 0 (keep all) or a positive duration", c.KeepHistory))
	}
	if c.MaxLogLines < 1 {
		errs = append(errs, fmt.Errorf("scheduler-max-log-lines %d: want ≥ 1", c.MaxLogLines))
	}
	if c.MaxBackfill < 1 {
		errs = append(errs, fmt.Errorf("scheduler-max-backfill %d: want ≥ 1", c.MaxBackfill))
	}
	if len(c.Instance) > 128 {
		errs = append(errs, fmt.Errorf("scheduler-instance: %d bytes: want at most 128", len(c.Instance)))
	}
	return errors.Join(errs...)
}

// instanceName is Instance, or host-pid-random.
func (c Config) instanceName() string {
	if c.Instance != "" {
		return c.Instance
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "scheduler"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomSuffix())
}
