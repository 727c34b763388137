package beamrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/metricsx"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/xlangx"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // registers the in-process runner
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal/extworker"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal/runnerlib"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
)

// ErrNotInitialized is returned when beam.Init() has not run (every runner needs it).
var ErrNotInitialized = errors.New("beam.Init() was not called before running a pipeline")

// Run runs p on the runner o names and waits for it. The in-process Prism runner is the default;
// flink, universal, portable (and prism with an Endpoint) submit p to the Beam Job API at
// o.Endpoint, with workers where o.EnvironmentType says. When ctx ends first, a submitted portable
// job is cancelled on the job server. Errors name the runner and the endpoint.
func Run(ctx context.Context, o Options, p *beam.Pipeline) (beam.PipelineResult, error) {
	o = o.normalize()
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("beam options: %w", err)
	}
	if !beam.Initialized() {
		return nil, fmt.Errorf("runner %s: %w", o.Runner, ErrNotInitialized)
	}
	if o.InProcess() {
		if err := warmLocal(ctx); err != nil {
			return nil, fmt.Errorf("runner prism (in-process): start: %w", err)
		}
		pr, err := beam.Run(ctx, Prism, p)
		if err != nil {
			return nil, fmt.Errorf("runner prism (in-process): %w", err)
		}
		return pr, nil
	}
	pr, err := runPortable(ctx, o, p)
	if err != nil {
		return nil, fmt.Errorf("runner %s at %s (environment %s): %w", o.Runner, o.Endpoint, o.envType(), err)
	}
	return pr, nil
}

// local guards the one write the in-process Prism runner makes to Beam's process-wide options:
// its first job starts the in-process job server and stores its address in jobopts.Endpoint (and
// LOOPBACK in jobopts.EnvironmentType). A tiny warm-up job makes that write once, under the lock,
// before any of our jobs run; later in-process jobs only read.
var local struct {
	mu    sync.Mutex
	ready bool
}

func warmLocal(ctx context.Context) error {
	local.mu.Lock()
	defer local.mu.Unlock()
	if local.ready {
		return nil
	}
	if *jobopts.Endpoint == "" {
		p, s := beam.NewPipelineWithRoot()
		beam.Impulse(s.Scope("beamrun-warmup"))
		if _, err := beam.Run(ctx, Prism, p); err != nil {
			return fmt.Errorf("warm-up job: %w", err)
		}
	}
	local.ready = true
	return nil
}

func (o Options) envType() string {
	if o.EnvironmentType == "" {
		return Docker
	}
	return o.EnvironmentType
}

var jobSeq atomic.Int64

func (o Options) jobName() string {
	if o.JobName != "" {
		return o.JobName
	}
	return fmt.Sprintf("citypulse-%d-%d", jobSeq.Add(1), time.Now().UnixNano())
}

// runPortable does what Beam's universal runner does (runners/universal.Execute and
// runnerlib.Execute), with the options passed in instead of read from the process-wide jobopts
// flags, a bounded connection to the job server, and cancellation of the job when ctx ends.
func runPortable(ctx context.Context, o Options, p *beam.Pipeline) (beam.PipelineResult, error) {
	edges, _, err := p.Build()
	if err != nil {
		return nil, fmt.Errorf("build pipeline: %w", err)
	}
	envCfg := o.EnvironmentConfig
	urn := graphx.URNEnvDocker
	loopback := false
	switch o.envType() {
	case Loopback:
		loopback, urn = true, graphx.URNEnvExternal
		srv, err := extworker.StartLoopback(ctx, 0)
		if err != nil {
			return nil, fmt.Errorf("start loopback worker pool: %w", err)
		}
		defer srv.Stop(context.Background())
		envCfg = srv.EnvironmentConfig(ctx)
	case External:
		urn = graphx.URNEnvExternal
	case Process:
		urn = graphx.URNEnvProcess
	case Docker:
		if envCfg == "" {
			envCfg = core.DefaultDockerImage
		}
	}
	xlangx.ResolveArtifacts(ctx, edges, nil)
	env, err := graphx.CreateEnvironment(ctx, urn, func(context.Context) string { return envCfg })
	if err != nil {
		return nil, fmt.Errorf("worker environment: %w", err)
	}
	model, err := graphx.Marshal(edges, &graphx.Options{Environment: env, PipelineResourceHints: jobopts.GetPipelineResourceHints()})
	if err != nil {
		return nil, fmt.Errorf("pipeline model: %w", err)
	}
	bin, cleanup, err := workerBinary(ctx, loopback)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := runnerlib.UpdateGoEnvironmentWorker(bin, model); err != nil {
		return nil, fmt.Errorf("worker binary %s: %w", bin, err)
	}

	cc, err := grpcx.Dial(ctx, o.Endpoint, o.ConnectTimeout)
	if err != nil {
		return nil, fmt.Errorf("job server not reachable within %s: %w", o.ConnectTimeout, err)
	}
	defer cc.Close()
	client := jobpb.NewJobServiceClient(cc)
	jo := &runnerlib.JobOptions{Name: o.jobName(), Experiments: jobopts.GetExperiments(), Worker: bin,
		RetainDocker: *jobopts.RetainDockerContainers, Parallelism: *jobopts.Parallelism, Loopback: loopback}
	prepID, artifacts, staging, err := runnerlib.Prepare(ctx, client, model, jo)
	if err != nil {
		return nil, fmt.Errorf("prepare job %s: %w", jo.Name, err)
	}
	token, err := runnerlib.Stage(ctx, prepID, artifacts, bin, staging)
	if err != nil {
		return nil, fmt.Errorf("stage job %s at %s: %w", jo.Name, artifacts, err)
	}
	jobID, err := runnerlib.Submit(ctx, client, prepID, token)
	if err != nil {
		return nil, fmt.Errorf("submit job %s: %w", jo.Name, err)
	}
	waitErr := runnerlib.WaitForCompletion(ctx, client, jobID)
	if ctx.Err() != nil {
		// The job runs on the cluster, not in this process: stop it there too.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ConnectTimeout)
		defer cancel()
		if _, err := client.Cancel(cctx, &jobpb.CancelJobRequest{JobId: jobID}); err != nil {
			return nil, fmt.Errorf("job %s: %w (and cancelling it on the job server failed: %v)", jobID, context.Cause(ctx), err)
		}
		return nil, fmt.Errorf("job %s cancelled: %w", jobID, context.Cause(ctx))
	}
	if waitErr != nil {
		return nil, fmt.Errorf("job %s: %w", jobID, waitErr)
	}
	res := &result{jobID: jobID}
	m, err := client.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: jobID})
	if err != nil {
		return nil, fmt.Errorf("job %s: metrics: %w", jobID, err)
	}
	res.metrics = metricsx.FromMonitoringInfos(model, m.GetMetrics().GetAttempted(), m.GetMetrics().GetCommitted())
	return res, nil
}

// workerBinary is the binary staged as the Go workers' program: none is run under LOOPBACK (an
// empty file stands in), else --worker_binary, else this very binary when it can run on the
// workers (linux/amd64), else one compiled from the main package's source (development only).
func workerBinary(ctx context.Context, loopback bool) (string, func(), error) {
	switch {
	case loopback:
		f, err := os.CreateTemp("", "beamrun-loopback-*")
		if err != nil {
			return "", nil, fmt.Errorf("loopback worker stand-in: %w", err)
		}
		f.Close()
		return f.Name(), func() { os.Remove(f.Name()) }, nil
	case *jobopts.WorkerBinary != "":
		return *jobopts.WorkerBinary, func() {}, nil
	}
	if self, ok := runnerlib.IsWorkerCompatibleBinary(); ok {
		return self, func() {}, nil
	}
	bin, err := runnerlib.BuildTempWorkerBinary(ctx, runnerlib.CompileOpts{})
	if err != nil {
		return "", nil, fmt.Errorf("build worker binary: %w", err)
	}
	return bin, func() { os.Remove(bin) }, nil
}

// result is a finished portable job's id and metrics.
type result struct {
	jobID   string
	metrics *metrics.Results
}

func (r *result) Metrics() metrics.Results { return *r.metrics }
func (r *result) JobID() string            { return r.jobID }

var _ beam.PipelineResult = (*result)(nil)
