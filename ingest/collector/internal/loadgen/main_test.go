package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/event"
)

// TestMain lets the test binary serve as the generator child of -gen process, as the loadgen
// binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-role" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunSmoke runs the benchmark for a moment on both sides, with each client and generator
// placement and with a variant, so that it does not rot. It asserts no timings: only that
// every side answered and the broker holds what was acknowledged (run checks that itself).
func TestRunSmoke(t *testing.T) {
	tests := []struct {
		client, gen string
		latRate     float64
		floor       time.Duration
		variants    []variant
		want        []string
	}{
		{client: "raw", gen: "inprocess"},
		{client: "nethttp", gen: "inprocess", latRate: 500, want: []string{"open loop at 500 events/s", "Open loop at 500 events/s offered"}},
		{client: "raw", gen: "process", latRate: 500, want: []string{"servers alone", "generator in its own process", "open loop at 500 events/s"}},
		{client: "raw", gen: "inprocess", variants: []variant{{name: "l0", linger: 0}},
			want: []string{"collector[l0] ", "| collector[l0] |", "collector[l0] / baseline"}},
		{client: "raw", gen: "process", floor: 200 * time.Millisecond,
			want: []string{"floor, each step alone", "the least the collector's server can cost", "allows its server"}},
		{client: "wrk", gen: "process", latRate: 500, want: []string{"wrk client", "open loop at 500 events/s"}},
	}
	for _, tt := range tests {
		if tt.client == "wrk" {
			if _, err := exec.LookPath("wrk"); err != nil {
				if os.Getenv("CI") != "" {
					t.Fatal("wrk is not installed: make test installs it (deploy/install.sh --test)")
				}
				t.Log("skipping the wrk client: wrk is not installed (deploy/install.sh --test installs it)")
				continue
			}
		}
		o := options{duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, rounds: 2, conns: 2, batch: 5, bodies: 3,
			partitions: 1, linger: -1, compress: true, markdown: true, client: tt.client, gen: tt.gen, variants: tt.variants,
			latRate: tt.latRate, latFor: 300 * time.Millisecond, floorFor: tt.floor}
		var out bytes.Buffer
		if err := run(context.Background(), o, &out); err != nil {
			t.Fatalf("%s client, %s generator: run: %v\n%s", tt.client, tt.gen, err, out.String())
		}
		want := append([]string{"bare net/http", "collector ", "broker holds", "| collector |", "collector / baseline", "on equal CPU", "errors 0"}, tt.want...)
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s client, %s generator: output lacks %q:\n%s", tt.client, tt.gen, w, out.String())
			}
		}
	}
}

func TestParseVariant(t *testing.T) {
	tests := []struct {
		in      string
		want    variant
		wantErr bool
	}{
		{in: "a:linger=2ms,codec=lz4", want: variant{name: "a", linger: 2 * time.Millisecond, codec: "lz4"}},
		{in: "b:partitions=8", want: variant{name: "b", linger: -2, partitions: 8}},
		{in: "c:linger=0s", want: variant{name: "c", linger: 0}},
		{in: "nameonly", wantErr: true},
		{in: ":linger=1ms", wantErr: true},
		{in: "d:speed=11", wantErr: true},
		{in: "e:linger=fast", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseVariant(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseVariant(%q): error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parseVariant(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// TestBodiesAreValid: every generated event must pass the collector's validation, or the
// benchmark would measure rejections.
func TestBodiesAreValid(t *testing.T) {
	for i, b := range makeBodies(20, 50, 7) {
		evs, rejs, err := event.ParseBatch(b, time.Now(), source)
		if err != nil || len(rejs) != 0 || len(evs) != 50 {
			t.Fatalf("body %d: %v, %d events, rejections %+v", i, err, len(evs), rejs)
		}
	}
}
