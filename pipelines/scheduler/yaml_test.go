package scheduler

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func codeJobs() []Job {
	return []Job{
		{Name: "events", Schedule: "15 0 * * *", Run: nop},
		{Name: "daily", DependsOn: []string{"events"}, Retries: 2, Run: nop},
	}
}

var yamlFuncs = map[string]RunFunc{"refresh_daily": nop}

func TestApplyYAML(t *testing.T) {
	data := []byte(`
jobs:
  - name: daily
    schedule: "45 0 * * *"
    retries: 0
    timeout: 1h
  - name: daily_again
    run: refresh_daily
    schedule: "0 6 * * *"
    depends_on: [events]
    backoff: 2m
    max_backoff: 30m
    partition: day
    description: a second pass after late uploads
  - name: events
    disabled: true
`)
	jobs, err := ApplyYAML(codeJobs(), data, yamlFuncs)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want 3", len(jobs))
	}
	daily, again, events := jobs[1], jobs[2], jobs[0]
	if daily.Schedule != "45 0 * * *" || daily.Retries != NoRetries || daily.Timeout != time.Hour || !slices.Equal(daily.DependsOn, []string{"events"}) {
		t.Errorf("daily overridden to %+v", daily)
	}
	if again.Name != "daily_again" || again.Run == nil || again.Backoff != 2*time.Minute || again.MaxBackoff != 30*time.Minute || again.Description == "" {
		t.Errorf("daily_again declared as %+v", again)
	}
	if !events.Disabled || events.Schedule != "15 0 * * *" {
		t.Errorf("events: %+v, want disabled with its schedule kept", events)
	}
	if codeJobs()[1].Schedule != "" {
		t.Error("the code declarations were modified")
	}
	if err := CheckJobs(DefaultConfig(), jobs); err != nil {
		t.Errorf("result does not validate: %v", err)
	}
}

func TestApplyYAMLErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "jobs:\n  - name: daily\n    shedule: '* * * * *'\n", "field shedule not found"},
		{"no name", "jobs:\n  - schedule: '@daily'\n", "jobs[0]: name: required"},
		{"new job without run", "jobs:\n  - name: fresh\n", "jobs[0] (fresh): run: required for a job not declared in code (one of: refresh_daily)"},
		{"unknown function", "jobs:\n  - name: fresh\n    run: nothing\n", `run: "nothing" is not a known function`},
		{"bad duration", "jobs:\n  - name: daily\n    timeout: soon\n", `timeout: "soon": want a positive duration`},
		{"zero duration", "jobs:\n  - name: daily\n    backoff: 0s\n", `backoff: "0s"`},
		{"bad retries", "jobs:\n  - name: daily\n    retries: 1000\n", "retries: 1000: want 0 to 100"},
		{"twice", "jobs:\n  - name: daily\n  - name: daily\n", "appears twice"},
		{"not yaml", "jobs: [", "jobs file"},
		{"wrong type", "jobs:\n  - name: daily\n    retries: many\n", "cannot unmarshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ApplyYAML(codeJobs(), []byte(tc.yaml), yamlFuncs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// TestJobsFileInNew: New reads Config.JobsFile; a cycle introduced by the file is named.
func TestJobsFileInNew(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := DefaultConfig()
	cfg.JobsFile = write("cycle.yaml", "jobs:\n  - name: events\n    depends_on: [daily]\n")
	ms := openStore(t, metastoreSQLite(t))
	_, err := New(testCtx(t), ms, cfg, codeJobs(), nil, nil, WithFuncs(yamlFuncs))
	if err == nil || !strings.Contains(err.Error(), "daily → events → daily") || !strings.Contains(err.Error(), "scheduler jobs") {
		t.Errorf("error %v, want the cycle named", err)
	}
	cfg.JobsFile = write("ok.yaml", "jobs:\n  - name: daily\n    schedule: '0 1 * * *'\n")
	s, err := New(testCtx(t), ms, cfg, codeJobs(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := s.Job(testCtx(t), "daily"); err != nil || st.Schedule != "0 1 * * *" {
		t.Errorf("daily %+v, %v; want the file's schedule", st, err)
	}
	cfg.JobsFile = filepath.Join(dir, "missing.yaml")
	if _, err := New(testCtx(t), ms, cfg, codeJobs(), nil, nil); err == nil || !strings.Contains(err.Error(), "scheduler-jobs-file") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzApplyYAML: any file either fails with an error or gives declarations that CheckJobs
// accepts or rejects without panicking.
func FuzzApplyYAML(f *testing.F) {
	for _, seed := range []string{
		"jobs:\n  - name: daily\n    schedule: '45 0 * * *'\n    retries: 0\n",
		"jobs:\n  - name: x\n    run: refresh_daily\n    depends_on: [daily, events]\n    partition: hour\n",
		"jobs:\n  - name: events\n    depends_on: [daily]\n",
		"jobs:\n  - name: daily\n    timeout: 1h\n    backoff: 1m\n    max_backoff: 1s\n    disabled: true\n",
		"jobs: [", "", "jobs: {}", "jobs:\n  - {name: a, run: refresh_daily, timezone: UTC}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		jobs, err := ApplyYAML(codeJobs(), data, yamlFuncs)
		if err != nil {
			return
		}
		for _, j := range jobs {
			if j.Name == "" {
				t.Fatalf("a job without a name came through: %+v", j)
			}
		}
		_ = CheckJobs(DefaultConfig(), jobs)
	})
}
