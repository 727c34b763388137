package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	writeKey = "bench-key"
	source   = "bench-app"
)

type options struct {
	duration   time.Duration
	warmup     time.Duration
	conns      int
	batch      int
	bodies     int
	dataDir    string
	partitions int
	linger     time.Duration
	sync       bool
	cpuProfile string
	only       string
	rounds     int
	markdown   bool
	memory     bool
	compress   bool
	codec      string
	client     string
	variants   []variant
	gen        string // "process" or "inprocess"
	latRate    float64
	latFor     time.Duration
	floorFor   time.Duration
	rate       float64 // load's open-loop rate in events/s; 0: closed loop
	role       string  // "generator": the child of -gen process
	url        string  // the child's target
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time per side (split over the rounds)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each round's measurement")
	flag.IntVar(&o.conns, "conns", 64, "concurrent keep-alive connections, the same for every side (closed loop: each sends its next batch once answered)")
	flag.IntVar(&o.batch, "batch", 50, "events per batch")
	flag.IntVar(&o.bodies, "bodies", 200, "distinct batch bodies generated and sent round-robin")
	flag.StringVar(&o.dataDir, "data-dir", "", "embedded broker data dir (default: a new temp dir, removed afterwards)")
	flag.IntVar(&o.partitions, "partitions", 4, "partitions of the events topic")
	flag.DurationVar(&o.linger, "linger", -1, "producer linger (default: the collector's ProducerOpts)")
	flag.BoolVar(&o.sync, "sync-writes", false, "fsync every produced batch in the embedded broker")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the collector side to this file")
	flag.IntVar(&o.rounds, "rounds", 3, "alternate the sides this many times, each round a share of -duration after its own warm-up")
	flag.StringVar(&o.only, "only", "", `run one side only: "baseline" or "collector"`)
	flag.BoolVar(&o.markdown, "markdown", false, "also print the result as a Markdown table row")
	flag.BoolVar(&o.memory, "memory", false, "diagnosis: run the embedded broker without a data dir (not the benchmark's setting)")
	flag.BoolVar(&o.compress, "compress", true, "producer compression as in ProducerOpts (false: none)")
	flag.StringVar(&o.client, "client", "raw", `load generator client: "raw" (pre-encoded requests on kept-alive connections, one write each), "nethttp" (net/http's Client) or "wrk" (Debian's wrk, the same requests; always in its own process)`)
	flag.StringVar(&o.codec, "codec", "", "diagnosis: producer compression codec instead of ProducerOpts': snappy, lz4, zstd, gzip or none")
	flag.Func("variant", `diagnosis: also run a collector with other settings in the same alternating rounds, "name:key=value,…" with keys linger, codec, partitions (repeatable)`,
		func(s string) error {
			v, err := parseVariant(s)
			o.variants = append(o.variants, v)
			return err
		})
	flag.StringVar(&o.gen, "gen", "process", `where the load generator runs: "process" (a child process per round, so that the server's and the generator's CPU time are told apart) or "inprocess" (goroutines beside the servers)`)
	flag.Float64Var(&o.latRate, "latency-rate", 50000, "after the rounds, load each side once more open-loop at this many events/s and report its latency (0: skip)")
	flag.DurationVar(&o.latFor, "latency-duration", 10*time.Second, "measured time of the open-loop latency run per side")
	flag.DurationVar(&o.floorFor, "floor", 0, "after the rounds, time each of the collector's two unavoidable steps alone for this long (parsing+encoding; producing+acknowledgement), no HTTP, and compare their sum with what the ratio target allows (0: skip)")
	flag.Float64Var(&o.rate, "rate", 0, "internal: the generator child's open-loop rate in events/s (0: closed loop)")
	flag.StringVar(&o.role, "role", "", `internal: "generator" is the child of -gen process`)
	flag.StringVar(&o.url, "url", "", "internal: the generator child's target")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	runner := run
	if o.role == "generator" {
		runner = runGenerator
	}
	if err := runner(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.conns < 1 || o.batch < 1 || o.bodies < 1 || o.duration <= 0 || o.rounds < 1 {
		return errors.New("conns, batch, bodies, duration and rounds must be positive")
	}
	if o.client != "raw" && o.client != "nethttp" && o.client != "wrk" {
		return fmt.Errorf("client %q: want raw, nethttp or wrk", o.client)
	}
	if o.gen != "process" && o.gen != "inprocess" {
		return fmt.Errorf("gen %q: want process or inprocess", o.gen)
	}
	bodies := makeBodies(o.bodies, o.batch, 1)
	size := 0
	for _, b := range bodies {
		size += len(b)
	}
	fmt.Fprintf(out, "collector benchmark: %d connections (%s client, %s), batches of %d events (%d B average), %s per side in %d alternating rounds, each after %s warm-up, GOMAXPROCS %d\n",
		o.conns, o.client, genPlace(o.gen), o.batch, size/len(bodies), o.duration, o.rounds, o.warmup, runtime.GOMAXPROCS(0))

	var sides []*side
	if o.only != "collector" {
		s, err := startBaseline(ctx)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		defer s.stop()
		sides = append(sides, s)
	}
	var cols []*side // the collector, then the variants
	if o.only != "baseline" {
		for _, v := range append([]variant{o.mainVariant()}, o.variants...) {
			s, err := startCollector(ctx, o, v)
			if err != nil {
				return fmt.Errorf("%s: %w", v.sideName(), err)
			}
			defer s.stop()
			sides = append(sides, s)
			cols = append(cols, s)
		}
	}

	// Alternate the sides in short rounds, so that a change in what else runs on the machine
	// weighs on all alike.
	per := o.duration / time.Duration(o.rounds)
	for round := range o.rounds {
		for _, s := range sides {
			var phase func(bool)
			if len(cols) > 0 && s == cols[0] && round == 0 && o.cpuProfile != "" {
				var stopProfile func()
				phase = func(measuring bool) {
					switch {
					case measuring:
						stopProfile = startProfile(o.cpuProfile, s.log)
					case stopProfile != nil:
						stopProfile()
					}
				}
			}
			var (
				r   result
				err error
			)
			switch {
			case o.client == "wrk":
				r, err = loadWrk(ctx, o, s.url, bodies, per, phase)
			case o.gen == "process":
				r, err = loadProcess(ctx, o, s.url, per, phase)
			default:
				r, err = load(ctx, o, s.url, bodies, per, phase)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.res.merge(r)
		}
	}

	if o.latRate > 0 {
		lo := o
		lo.rate = o.latRate
		if lo.client == "wrk" { // wrk has no open-loop mode
			lo.client = "raw"
		}
		for _, s := range sides {
			var (
				r   result
				err error
			)
			if o.gen == "process" {
				r, err = loadProcess(ctx, lo, s.url, o.latFor, nil)
			} else {
				r, err = load(ctx, lo, s.url, bodies, o.latFor, nil)
			}
			if err != nil {
				return fmt.Errorf("%s, open loop: %w", s.name, err)
			}
			r.finish()
			s.lat = r
			s.res.ackedTotal += r.ackedTotal
		}
	}

	var base *result
	for _, s := range sides {
		s.res.finish()
		fmt.Fprintln(out, s.res.line(s.name))
		if s.prod == nil {
			base = &s.res
			continue
		}
		stored, err := countRecords(ctx, s.prod)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  broker holds %d events (acknowledged %d, incl. warm-up)\n", stored, s.res.ackedTotal)
		if stored < s.res.ackedTotal {
			return fmt.Errorf("%s: the broker holds %d events but %d were acknowledged", s.name, stored, s.res.ackedTotal)
		}
	}
	if o.latRate > 0 {
		fmt.Fprintf(out, "open loop at %.0f events/s (%d connections, latency from when each request was due):\n", o.latRate, o.conns)
		for _, s := range sides {
			fmt.Fprintln(out, s.lat.latencyLine(s.name))
		}
	}
	if base == nil || base.requests == 0 || len(cols) == 0 {
		return nil
	}
	var ratios []string
	for _, s := range cols {
		if s.res.requests == 0 {
			continue
		}
		// On a shared machine the sides win different shares of the cores from other
		// processes, so the events/s ratio also measures the scheduler; the ratio of CPU per
		// event is what the events/s ratio would be if both sides had the same CPU.
		cpuRatio := float64(s.res.cpuPerEvent()) / float64(base.cpuPerEvent())
		r := fmt.Sprintf("%s / baseline: %.1f%% of the events/s; CPU per event %.1fx the baseline's", s.name,
			100*s.res.eventsPerSec()/base.eventsPerSec(), cpuRatio)
		if base.genCPU > 0 {
			r += fmt.Sprintf(" (servers alone %.1fx)", float64(s.res.cpu)/float64(s.res.events)/(float64(base.cpu)/float64(base.events)))
		}
		r += fmt.Sprintf(", i.e. %.1f%% of its events/s on equal CPU", 100/cpuRatio)
		ratios = append(ratios, r)
		fmt.Fprintln(out, r)
	}
	if o.floorFor > 0 {
		fr, err := measureFloor(ctx, o, cols[0].prod, bodies, o.floorFor)
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		printFloor(out, fr, base, &cols[0].res)
	}
	if o.markdown {
		fmt.Fprintln(out, "\n| side | events/s | requests/s | p50 | p99 | errors | CPU used (cores): server + generator | CPU per event: server + generator |\n|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, s := range sides {
			fmt.Fprintln(out, s.res.markdown(s.name))
		}
		if o.latRate > 0 {
			fmt.Fprintf(out, "\nOpen loop at %.0f events/s offered:\n\n| side | events/s answered | p50 | p99 | errors |\n|---|---:|---:|---:|---:|\n", o.latRate)
			for _, s := range sides {
				fmt.Fprintf(out, "| %s | %.0f | %s | %s | %d |\n", s.name, s.lat.eventsPerSec(), ms(s.lat.percentile(0.5)), ms(s.lat.percentile(0.99)), s.lat.errors)
			}
		}
		fmt.Fprintf(out, "\n%s\n", strings.Join(ratios, "\n"))
	}
	return nil
}

func genPlace(gen string) string {
	if gen == "process" {
		return "generator in its own process"
	}
	return "generator in the servers' process"
}

// startProfile starts a CPU profile into path and returns what stops it.
func startProfile(path string, log *slog.Logger) func() {
	f, err := os.Create(path)
	if err != nil {
		log.Warn("cpu profile", "err", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Warn("cpu profile", "err", err)
		f.Close()
		return nil
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// produceLatency is the mean of the collector's produce duration histogram (warm-up included).
func produceLatency(reg *prometheus.Registry) time.Duration {
	mfs, err := reg.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != "citypulse_collector_produce_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if h := m.GetHistogram(); h.GetSampleCount() > 0 {
				return time.Duration(h.GetSampleSum() / float64(h.GetSampleCount()) * float64(time.Second))
			}
		}
	}
	return 0
}
