package offline_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/beamrun/beamruntest"
)

// TestJobsPortableMatchInProcess: every daily job, run through the Beam Job API of a real
// standalone Prism job server (the portable path Flink's job server serves too, LOOPBACK
// workers), writes the same rows as on in-process Prism.
func TestJobsPortableMatchInProcess(t *testing.T) {
	endpoint := beamruntest.JobServer(t)
	cfg, conn := fixture(t)
	opt := testOptions(cfg)
	runAll(t, opt)
	snapshot := func() map[string][]string {
		out := map[string][]string{}
		for k, r := range recounts(opt) {
			for _, day := range days {
				out[fmt.Sprintf("%s/%d/%s", r.job, k, day)] = tableRows(t, conn, r, day)
			}
		}
		return out
	}
	want := snapshot()
	opt.Beam = beamrun.Options{Runner: beamrun.Universal, Endpoint: endpoint, EnvironmentType: beamrun.Loopback}
	runAll(t, opt) // reruns replace each day's partition
	got := snapshot()
	rows := 0
	for key, w := range want {
		rows += len(w)
		if !slices.Equal(got[key], w) {
			t.Errorf("%s: portable %d rows, in-process %d: %s", key, len(got[key]), len(w), diff(got[key], w))
		}
	}
	if rows == 0 {
		t.Fatal("the fixture gave no rows: nothing compared")
	}
}
