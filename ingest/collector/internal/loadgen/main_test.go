package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/event"
)

// TestRunSmoke runs the benchmark for a moment on both sides, so that it does not rot. It
// asserts no timings: only that both sides answered and the broker holds what was acknowledged
// (run checks that itself).
func TestRunSmoke(t *testing.T) {
	for _, client := range []string{"raw", "nethttp"} {
		o := options{duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, rounds: 2, conns: 2, batch: 5, bodies: 3,
			partitions: 1, linger: -1, compress: true, markdown: true, client: client}
		var out bytes.Buffer
		if err := run(context.Background(), o, &out); err != nil {
			t.Fatalf("%s client: run: %v\n%s", client, err, out.String())
		}
		for _, want := range []string{"bare net/http", "collector ", "broker holds", "| collector |", "collector / baseline", "errors 0"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s client: output lacks %q:\n%s", client, want, out.String())
			}
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
