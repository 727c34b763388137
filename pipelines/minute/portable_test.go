package minute

import (
	"slices"
	"testing"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/beamrun/beamruntest"
)

// TestStreamingPortable runs the streaming job through the Beam Job API of a real standalone
// Prism job server (the path Flink's job server serves too; LOOPBACK workers), not in-process:
// events sent before and while it runs, and client resends, give the same series as a recount,
// and stopping it leaves nothing uncommitted.
func TestStreamingPortable(t *testing.T) {
	endpoint := beamruntest.JobServer(t)
	s := stacktest.Start(t, stacktest.Options{})
	cl, err := bus.NewClient(s.Bus)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	cfg := DefaultConfig().WithBeam(beamrun.Options{Runner: beamrun.Universal, Endpoint: endpoint, EnvironmentType: beamrun.Loopback})
	cfg.Checkpoint = 50 * time.Millisecond
	if o := cfg.BeamOptions(); o.InProcess() {
		t.Fatalf("options %+v run in-process", o)
	}

	t0 := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	evs := workload("p", t0, 200)
	post(t, s, evs[:100]...) // a backlog before the job starts
	job := startStreaming(t, s, cfg)
	for i := 100; i < len(evs); i += 25 {
		post(t, s, evs[i:i+25]...)
	}
	post(t, s, evs[:10]...) // resends
	waitCaughtUp(t, adm, cfg.Group)
	checkSeries(t, s.Conn, append(evs, evs[:10]...), queriesFor(t0.Add(-time.Hour), t0.Add(time.Hour), "510104017001", 2, "h5"))
	// The job ran on the job server, not in this process's own Prism.
	cc, err := grpcx.Dial(t.Context(), endpoint, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	jobs, err := jobpb.NewJobServiceClient(cc).GetJobs(t.Context(), &jobpb.GetJobsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs.GetJobInfo() {
		names = append(names, j.GetJobName())
	}
	if !slices.Contains(names, "citypulse-minute") {
		t.Errorf("jobs on the job server: %q, want citypulse-minute", names)
	}
	job.stop(t)
	if lag, err := Lag(t.Context(), adm, cfg.Group); err != nil || lag != 0 {
		t.Fatalf("lag %d (%v) after the job stopped, want 0", lag, err)
	}
}
