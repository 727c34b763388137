package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/httpserve"
)

// side is one server under load.
type side struct {
	name string
	url  string
	log  *slog.Logger
	prod *kgo.Client // collector: its producer; nil for the baseline
	res  result      // the closed-loop rounds
	lat  result      // the open-loop latency run
	stop func()
}

// variant is a collector's producer and broker settings. The zero value of a field means the
// setting of the collector side (the flags), which defaults to ProducerOpts.
type variant struct {
	name       string        // "": the collector side itself
	linger     time.Duration // -1: ProducerOpts'
	codec      string        // "": ProducerOpts'
	partitions int
}

// mainVariant is the collector side's settings, from the flags.
func (o options) mainVariant() variant {
	v := variant{linger: o.linger, codec: o.codec, partitions: o.partitions}
	if !o.compress && v.codec == "" {
		v.codec = "none"
	}
	return v
}

func (v variant) sideName() string {
	if v.name == "" {
		return "collector"
	}
	return "collector[" + v.name + "]"
}

// parseVariant reads "name:key=value,…" (keys linger, codec, partitions); the
// settings it leaves out are the collector side's.
func parseVariant(s string) (variant, error) {
	name, settings, ok := strings.Cut(s, ":")
	v := variant{name: strings.TrimSpace(name), linger: -2}
	if !ok || v.name == "" {
		return v, fmt.Errorf("variant %q: want name:key=value,…", s)
	}
	for _, kv := range strings.Split(settings, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return v, fmt.Errorf("variant %q: %q: want key=value", s, kv)
		}
		var err error
		switch k {
		case "linger":
			v.linger, err = time.ParseDuration(val)
		case "codec":
			v.codec = val
		case "partitions":
			v.partitions, err = strconv.Atoi(val)
		default:
			err = fmt.Errorf("unknown key (want linger, codec or partitions)")
		}
		if err != nil {
			return v, fmt.Errorf("variant %q: %s: %w", s, k, err)
		}
	}
	return v, nil
}

// over fills what v leaves out from the collector side's settings.
func (v variant) over(main variant) variant {
	if v.linger == -2 {
		v.linger = main.linger
	}
	if v.codec == "" {
		v.codec = main.codec
	}
	if v.partitions == 0 {
		v.partitions = main.partitions
	}
	return v
}

// producerOpts are ProducerOpts changed as v says.
func (v variant) producerOpts() ([]kgo.Opt, error) {
	popts := collector.ProducerOpts()
	switch v.codec {
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
		return nil, fmt.Errorf("unknown codec %q", v.codec)
	}
	if v.linger >= 0 {
		popts = append(popts, kgo.ProducerLinger(v.linger))
	}
	return popts, nil
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

// startCollector runs an embedded broker of its own and the collector as `citypulse up` does,
// with v's settings.
func startCollector(ctx context.Context, o options, v variant) (_ *side, err error) {
	v = v.over(o.mainVariant())
	if v.partitions < 1 {
		return nil, fmt.Errorf("partitions %d: want at least 1", v.partitions)
	}
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
	if dir == "" || v.name != "" {
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
	busCfg.Partitions = v.partitions
	broker, err := bus.StartEmbedded(busCfg, log)
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, broker.Close)
	busCfg.Brokers = broker.Addrs()

	popts, err := v.producerOpts()
	if err != nil {
		return nil, err
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
	s := &side{name: v.sideName(), url: url, log: log, prod: prod, stop: stop}
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
