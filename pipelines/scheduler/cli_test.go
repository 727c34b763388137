package scheduler

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	ctx := testCtx(t)
	clock := newFakeClock(at(t, "2024-05-02 09:00"))
	l := &ledger{}
	s, _ := newScheduler(t, metastoreSQLite(t), testConfig("cli"), clock, dagJobs(l, "cli"))
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := Command(ctx, s, &out, args)
		return out.String(), err
	}
	tests := []struct {
		args    []string
		want    []string // substrings of the output
		wantErr string
	}{
		{[]string{"list"}, []string{"JOB SCHEDULE", "extract 30 0 * * * day - 2024-05-03 00:30 → 2024-05-02 -", "daily (with upstream / manual) day extract"}, ""},
		{[]string{"trigger", "extract", "-at", "2024-04-30", "-by", "bob", "-run"}, []string{"3 run(s) enqueued, 0 already queued", "1 extract 2024-04-30 succeeded 1/3 manual", "3 profiles 2024-04-30 succeeded"}, ""},
		{[]string{"backfill", "-no-downstream", "extract", "2024-04-28", "2024-04-30", "-run"}, []string{"3 run(s) enqueued, 0 already queued", "4 extract 2024-04-28 succeeded 1/3 backfill", "6 extract 2024-04-30 succeeded 1/3 backfill"}, ""},
		{[]string{"runs", "extract"}, []string{"RUN JOB", "1 extract 2024-04-30 succeeded"}, ""},
		{[]string{"runs", "-state", "succeeded", "-limit", "1"}, []string{"6 extract 2024-04-30 succeeded 1/3 backfill"}, ""},
		{[]string{"show", "1"}, []string{"run 1: extract for 2024-04-30 — succeeded (attempt 1 of 3), manual by bob", "attempt 1 on cli: succeeded", "| ", "computing"}, ""},
		{nil, nil, "no subcommand"},
		{[]string{"launch"}, nil, `unknown subcommand "launch"`},
		{[]string{"trigger"}, nil, "want a job name"},
		{[]string{"backfill", "daily", "2024-04-29"}, nil, "want a job name, a from and a to"},
		{[]string{"show", "x"}, nil, `"x" is not a run id`},
		{[]string{"runs", "-limit", "many"}, nil, "invalid value"},
		{[]string{"trigger", "ghost"}, nil, "no such job"},
		{[]string{"trigger", "extract", "-at", "2024-04-01", "-by", "bob"}, []string{"3 run(s) enqueued"}, ""},
		{[]string{"backfill", "extract", "2024-04-10", "2024-04-12", "-no-downstream"}, []string{"3 run(s) enqueued"}, ""},
		{[]string{"cancel", "7", "-by", "carol"}, []string{"3 run(s) cancelled, 0 being stopped", "7 extract 2024-04-01 cancelled", "8 daily 2024-04-01 cancelled", "9 profiles 2024-04-01 cancelled"}, ""},
		{[]string{"show", "8"}, []string{"run 8: daily for 2024-04-01 — cancelled", "cancel requested by carol", "error: cancelled: upstream run 7 (extract for 2024-04-01) was cancelled by carol"}, ""},
		{[]string{"cancel", "7"}, nil, "run 7 (extract for 2024-04-01) is cancelled: run already finished"},
		{[]string{"cancel", "--job", "extract", "--from", "2024-04-11", "--to", "2024-04-12"}, []string{"2 run(s) cancelled", "11 extract 2024-04-11 cancelled", "12 extract 2024-04-12 cancelled"}, ""},
		{[]string{"cancel", "-job", "extract"}, []string{"1 run(s) cancelled", "10 extract 2024-04-10 cancelled"}, ""},
		{[]string{"cancel", "-job", "extract"}, []string{"0 run(s) cancelled"}, ""},
		{[]string{"runs", "-state", "cancelled"}, []string{"12 extract 2024-04-12 cancelled"}, ""},
		{[]string{"cancel"}, nil, "want a run id, or -job JOB"},
		{[]string{"cancel", "7", "-job", "extract"}, nil, "want a run id, or -job JOB"},
		{[]string{"cancel", "seven"}, nil, `"seven" is not a run id`},
		{[]string{"cancel", "999"}, nil, "no such run"},
		{[]string{"cancel", "-job", "ghost"}, nil, "no such job"},
		{[]string{"cancel", "-job", "extract", "-from", "soon"}, nil, "from: \"soon\""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := run(tc.args...)
			out = strings.Join(strings.Fields(out), " ")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	out, err := run("list", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var jobs []JobStatus
	if err := json.Unmarshal([]byte(out), &jobs); err != nil || len(jobs) != 3 || jobs[0].LastRun == nil {
		t.Errorf("list -json: %v, %+v", err, jobs)
	}
}
