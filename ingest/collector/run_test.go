package collector

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv"
)

// TestRun runs the standalone collector against the test's broker (testenv.Kafka), sends a
// batch through its real listener and stops it.
func TestRun(t *testing.T) {
	k := testenv.Kafka(t)
	busCfg := k.PrefixedBus()
	e := &env{k: k, busCfg: busCfg}

	ln, err := net.Listen("tcp", "127.0.0.1:0") // find a free port for Run to listen on
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := DefaultConfig()
	cfg.Listen = addr

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, busCfg, testLog(), prometheus.NewRegistry()) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	cl := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := cl.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector never came up: %v", err)
		}
		select {
		case err := <-done:
			done <- err // for the deferred stop
			t.Fatalf("Run ended early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	resp, b, err := postTo(cl, "http://"+addr+"/v1/batch", devKey, []byte(validBatch))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %v %v %s", resp, err, b)
	}
	if recs := e.consume(t, bus.EventsTopic, 3); len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
}
