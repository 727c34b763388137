package scheduler

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// CommandUsage is the synopsis of Command.
const CommandUsage = `usage: citypulse jobs [flags] SUBCOMMAND
  list                              the jobs: schedule, next run, last run
  runs [JOB] [-state S] [-limit N]  run history, newest first
  show RUN_ID                       one run with its attempts and their logs
  trigger JOB [-at TIME]            enqueue a run (default: the latest complete day or hour)
  backfill JOB FROM TO              enqueue one run per day (or hour) from FROM to TO, both included
  cancel RUN_ID                     cancel a queued run at once, or stop a running one (no retry)
  cancel -job JOB [-from X] [-to Y] cancel every queued and running run of JOB (whose logical
                                    time lies in X..Y); pending downstream runs go with them
trigger and backfill also take: -no-downstream (not the dependent jobs), -by NAME,
  -wait (until the runs end; another instance, e.g. citypulse up, executes them),
  -run (execute them, and any other queued run that can start, in this process).
cancel takes -by NAME and -wait (until the running runs have stopped).
Every subcommand takes -json.`

// Command is the core of `citypulse jobs …`: args are what follows "jobs" (flags may come
// before or after the positional arguments); output goes to out. A request error is returned
// for the binary to print with CommandUsage.
func Command(ctx context.Context, s *Scheduler, out io.Writer, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no subcommand\n%s", CommandUsage)
	}
	fs := flag.NewFlagSet("jobs "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "")
	state := fs.String("state", "", "")
	limit := fs.Int("limit", 20, "")
	atText := fs.String("at", "", "")
	noDown := fs.Bool("no-downstream", false, "")
	by := fs.String("by", "", "")
	wait := fs.Bool("wait", false, "")
	runHere := fs.Bool("run", false, "")
	jobName := fs.String("job", "", "")
	fromText := fs.String("from", "", "")
	toText := fs.String("to", "", "")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return fmt.Errorf("jobs %s: %w\n%s", args[0], err, CommandUsage)
	}
	want := func(n int, what string) error {
		if len(pos) != n {
			return fmt.Errorf("jobs %s: want %s\n%s", args[0], what, CommandUsage)
		}
		return nil
	}
	emit := func(v any, text func(io.Writer) error) error {
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(v)
		}
		return text(out)
	}
	switch args[0] {
	case "list":
		if err := want(0, "no arguments"); err != nil {
			return err
		}
		jobs, err := s.Jobs(ctx)
		if err != nil {
			return err
		}
		return emit(jobs, func(w io.Writer) error { return WriteJobs(w, jobs) })
	case "runs":
		if len(pos) > 1 {
			return want(1, "at most one job name")
		}
		f := RunFilter{State: State(*state), Limit: *limit}
		if len(pos) == 1 {
			f.Job = pos[0]
		}
		runs, err := s.Runs(ctx, f)
		if err != nil {
			return err
		}
		return emit(runs, func(w io.Writer) error { return WriteRuns(w, runs) })
	case "show":
		if err := want(1, "a run id"); err != nil {
			return err
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return fmt.Errorf("jobs show: %q is not a run id", pos[0])
		}
		r, err := s.GetRun(ctx, id)
		if err != nil {
			return err
		}
		return emit(r, func(w io.Writer) error { return WriteRun(w, r) })
	case "trigger", "backfill":
		opts := EnqueueOptions{By: *by, NoDownstream: *noDown}
		if opts.By == "" {
			opts.By = osUser()
		}
		var res EnqueueResult
		if args[0] == "trigger" {
			if err := want(1, "a job name"); err != nil {
				return err
			}
			res, err = s.Trigger(ctx, pos[0], *atText, opts)
		} else {
			if err := want(3, "a job name, a from and a to"); err != nil {
				return err
			}
			res, err = s.Backfill(ctx, pos[0], pos[1], pos[2], opts)
		}
		if err != nil {
			return err
		}
		if *wait || *runHere {
			if res.Runs, err = s.await(ctx, res.Runs, *runHere); err != nil {
				return err
			}
		}
		return emit(res, func(w io.Writer) error {
			if _, err := fmt.Fprintf(w, "%d run(s) enqueued, %d already queued:\n", res.Created, len(res.Runs)-res.Created); err != nil {
				return err
			}
			return WriteRuns(w, res.Runs)
		})
	case "cancel":
		res, err := cancelCommand(ctx, s, pos, *jobName, *fromText, *toText, *by)
		if err != nil {
			return err
		}
		if *wait {
			if res.Runs, err = s.await(ctx, res.Runs, false); err != nil {
				return err
			}
		}
		return emit(res, func(w io.Writer) error {
			if _, err := fmt.Fprintf(w, "%d run(s) cancelled, %d being stopped by the instance running them:\n", res.Cancelled, res.Stopping); err != nil {
				return err
			}
			return WriteRuns(w, res.Runs)
		})
	default:
		return fmt.Errorf("jobs: unknown subcommand %q\n%s", args[0], CommandUsage)
	}
}

// cancelCommand is `jobs cancel RUN_ID` or `jobs cancel -job JOB [-from X] [-to Y]`.
func cancelCommand(ctx context.Context, s *Scheduler, pos []string, job, from, to, by string) (CancelResult, error) {
	if by == "" {
		by = osUser()
	}
	switch {
	case job == "" && len(pos) == 1 && from == "" && to == "":
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id < 1 {
			return CancelResult{}, fmt.Errorf("jobs cancel: %q is not a run id", pos[0])
		}
		return s.Cancel(ctx, id, by)
	case job != "" && len(pos) == 0:
		return s.CancelJob(ctx, job, from, to, by)
	}
	return CancelResult{}, fmt.Errorf("jobs cancel: want a run id, or -job JOB with optional -from and -to\n%s", CommandUsage)
}

// await polls the runs until each has ended, executing runnable runs here when execute is
// set, and returns them as they ended.
func (s *Scheduler) await(ctx context.Context, runs []RunRecord, execute bool) ([]RunRecord, error) {
	for {
		if execute {
			if err := s.RunQueued(ctx); err != nil {
				return nil, err
			}
		}
		out := make([]RunRecord, 0, len(runs))
		done := true
		for _, r := range runs {
			cur, err := s.GetRun(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			cur.Attempts = nil
			done = done && cur.State.Terminal()
			out = append(out, cur)
		}
		if done {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(min(s.cfg.PollInterval, time.Second)):
		}
	}
}

// parseInterspersed parses flags that may stand among the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}

// WriteJobs writes the jobs as a table.
func WriteJobs(w io.Writer, jobs []JobStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tPARTITION\tDEPENDS ON\tNEXT RUN\tLAST RUN")
	for _, j := range jobs {
		sched, next := j.Schedule, "-"
		if sched == "" {
			sched = "(with upstream / manual)"
		}
		if j.Disabled {
			sched += " [disabled]"
		}
		if !j.NextRun.IsZero() {
			next = j.NextRun.Format("2006-01-02 15:04") + " → " + j.NextPartition
		}
		last := "-"
		if r := j.LastRun; r != nil {
			last = fmt.Sprintf("#%d %s %s", r.ID, r.Partition, r.State)
		}
		deps := strings.Join(j.DependsOn, ",")
		if deps == "" {
			deps = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.Name, sched, j.Partition, deps, next, last)
	}
	return tw.Flush()
}

// WriteRuns writes runs as a table.
func WriteRuns(w io.Writer, runs []RunRecord) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tJOB\tPARTITION\tSTATE\tATTEMPT\tTRIGGER\tSTARTED\tDURATION\tROWS\tERROR")
	for _, r := range runs {
		started, dur := "-", "-"
		if !r.StartedAt.IsZero() {
			started = r.StartedAt.Local().Format("01-02 15:04:05")
		}
		if d := r.Duration(); d > 0 {
			dur = d.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Job, r.Partition, stateText(r), r.Attempt, r.MaxAttempts,
			r.Trigger, started, dur, r.Rows, firstLine(r.Error, 80))
	}
	return tw.Flush()
}

// stateText is the run's state, "running (cancelling)" while its holder is stopping it.
func stateText(r RunRecord) string {
	if r.State == StateRunning && !r.CancelRequested.IsZero() {
		return "running (cancelling)"
	}
	return string(r.State)
}

// WriteRun writes one run with its attempts and logs.
func WriteRun(w io.Writer, r RunRecord) error {
	fmt.Fprintf(w, "run %d: %s for %s — %s (attempt %d of %d), %s by %s\n", r.ID, r.Job, r.Partition, stateText(r), r.Attempt, r.MaxAttempts, r.Trigger, r.RequestedBy)
	if !r.CancelRequested.IsZero() {
		fmt.Fprintf(w, "cancel requested by %s at %s\n", r.CancelledBy, r.CancelRequested.Local().Format(time.DateTime))
	}
	if r.Rows > 0 || r.Message != "" {
		fmt.Fprintf(w, "rows %d  %s\n", r.Rows, r.Message)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
	for _, a := range r.Attempts {
		fmt.Fprintf(w, "\nattempt %d on %s: %s, started %s", a.Attempt, a.Owner, a.State, a.StartedAt.Local().Format(time.DateTime))
		if !a.FinishedAt.IsZero() {
			fmt.Fprintf(w, ", took %s", a.FinishedAt.Sub(a.StartedAt).Round(time.Millisecond))
		}
		fmt.Fprintln(w)
		if a.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", a.Error)
		}
		for _, line := range a.Log {
			fmt.Fprintf(w, "  | %s\n", line)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}
