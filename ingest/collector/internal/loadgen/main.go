package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
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
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time per side (split over the rounds)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each round's measurement")
	flag.IntVar(&o.conns, "conns", 32, "concurrent keep-alive connections (closed loop: each sends its next batch once answered)")
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
	flag.StringVar(&o.client, "client", "raw", `load generator client: "raw" (pre-encoded requests on kept-alive connections, one write each: the cheapest) or "nethttp" (net/http's Client)`)
	flag.StringVar(&o.codec, "codec", "", "diagnosis: producer compression codec instead of ProducerOpts': snappy, lz4, zstd, gzip or none")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.conns < 1 || o.batch < 1 || o.bodies < 1 || o.duration <= 0 || o.rounds < 1 {
		return errors.New("conns, batch, bodies, duration and rounds must be positive")
	}
	if o.client != "raw" && o.client != "nethttp" {
		return fmt.Errorf("client %q: want raw or nethttp", o.client)
	}
	bodies := makeBodies(o.bodies, o.batch, 1)
	size := 0
	for _, b := range bodies {
		size += len(b)
	}
	fmt.Fprintf(out, "collector benchmark: %d connections (%s client), batches of %d events (%d B average), %s per side in %d alternating rounds, each after %s warm-up, GOMAXPROCS %d\n",
		o.conns, o.client, o.batch, size/len(bodies), o.duration, o.rounds, o.warmup, runtime.GOMAXPROCS(0))

	var sides []*side
	if o.only != "collector" {
		s, err := startBaseline(ctx)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		defer s.stop()
		sides = append(sides, s)
	}
	var col *side
	if o.only != "baseline" {
		s, err := startCollector(ctx, o)
		if err != nil {
			return fmt.Errorf("collector: %w", err)
		}
		defer s.stop()
		sides = append(sides, s)
		col = s
	}

	// Alternate the sides in short rounds, so that a change in what else runs on the machine
	// weighs on both alike.
	per := o.duration / time.Duration(o.rounds)
	for round := range o.rounds {
		for _, s := range sides {
			var phase func(bool)
			if s == col && round == 0 && o.cpuProfile != "" {
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
			r, err := load(ctx, o, s.url, bodies, per, phase)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.res.merge(r)
		}
	}

	var base result
	for _, s := range sides {
		s.res.finish()
		fmt.Fprintln(out, s.res.line(s.name))
		if s == col {
			stored, err := countRecords(ctx, s.prod)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "  broker holds %d events (acknowledged %d, incl. warm-up)\n", stored, s.res.ackedTotal)
			if stored < s.res.ackedTotal {
				return fmt.Errorf("the broker holds %d events but %d were acknowledged", stored, s.res.ackedTotal)
			}
		} else {
			base = s.res
		}
	}
	if col == nil || base.requests == 0 || col.res.requests == 0 {
		return nil
	}
	c := col.res
	ratio := fmt.Sprintf("collector / baseline: %.1f%% of the events/s; CPU per event %.1fx the baseline's",
		100*c.eventsPerSec()/base.eventsPerSec(), float64(c.cpuPerEvent())/float64(base.cpuPerEvent()))
	fmt.Fprintln(out, ratio)
	if o.markdown {
		fmt.Fprintln(out, "\n| side | events/s | requests/s | p50 | p99 | errors | CPU used (cores) | CPU per event |\n|---|---:|---:|---:|---:|---:|---:|---:|")
		fmt.Fprintln(out, base.markdown("bare net/http"))
		fmt.Fprintln(out, c.markdown("collector"))
		fmt.Fprintf(out, "\n%s\n", ratio)
	}
	return nil
}

// side is one server under load.
type side struct {
	name string
	url  string
	log  *slog.Logger
	prod *kgo.Client // collector: its producer
	res  result
	stop func()
}

// startBaseline serves a handler that reads and discards the body and answers like the
// collector.
func startBaseline(ctx context.Context) (*side, error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"success":true,"accepted":50,"rejected":[]}`+"\n")
	})
	url, stop, err := serve(ctx, h)
	if err != nil {
		return nil, err
	}
	return &side{name: "bare net/http", url: url, stop: stop}, nil
}

// startCollector runs the embedded broker and the collector as `citypulse up` does.
func startCollector(ctx context.Context, o options) (_ *side, err error) {
	var cleanup []func()
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	dir := o.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "citypulse-bench-kafka-")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { os.RemoveAll(d) })
		dir = d
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	busCfg := bus.DefaultConfig()
	busCfg.Brokers = []string{"127.0.0.1:0"}
	busCfg.DataDir = dir
	if o.memory {
		busCfg.DataDir = ""
	}
	busCfg.SyncWrites = o.sync
	busCfg.Partitions = o.partitions
	broker, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, broker.Close)
	busCfg.Brokers = broker.Addrs()

	popts := collector.ProducerOpts()
	if !o.compress {
		popts = append(popts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	}
	switch o.codec {
	case "":
	case "snappy":
		popts = append(popts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		popts = append(popts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		popts = append(popts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	case "gzip":
		popts = append(popts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "none":
		popts = append(popts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	default:
		return nil, fmt.Errorf("unknown codec %q", o.codec)
	}
	if o.linger >= 0 {
		popts = append(popts, kgo.ProducerLinger(o.linger))
	}
	prod, err := bus.NewClient(busCfg, popts...)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, prod.Close)
	cfg := collector.DefaultConfig()
	cfg.WriteKeys = []string{writeKey + "=" + source}
	reg := prometheus.NewRegistry()
	c, err := collector.New(cfg, prod, log, reg)
	if err != nil {
		return nil, err
	}
	url, stopServer, err := serve(ctx, c.Handler())
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, stopServer)
	s := &side{name: "collector", url: url, log: log, prod: prod, stop: stop}
	s.res.produceFrom = reg
	return s, nil
}

// serve serves h on a loopback port until stop is called.
func serve(ctx context.Context, h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- httpserve.Serve(sctx, ln, h, "bench", slog.New(slog.DiscardHandler))
	}()
	return "http://" + ln.Addr().String() + "/v1/batch", func() { cancel(); <-served }, nil
}

// countRecords sums the end offsets of the events topic.
func countRecords(ctx context.Context, cl *kgo.Client) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, bus.EventsTopic)
	if err != nil {
		return 0, fmt.Errorf("end offsets: %w", err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n, nil
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
