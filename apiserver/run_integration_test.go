package apiserver_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestRun serves the API and an extra handler on one listener until the context ends.
func TestRun(t *testing.T) {
	whCfg, _ := testenv.Warehouse(t)
	cfg := apiserver.DefaultConfig()
	cfg.Listen = freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	extra := map[string]http.Handler{"/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "pages")
	})}
	done := make(chan error, 1)
	go func() { done <- apiserver.Run(ctx, cfg, whCfg, nil, prometheus.NewRegistry(), extra) }()

	base := "http://" + cfg.Listen
	var ready bool
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = true
				break
			}
		}
	}
	if !ready {
		cancel()
		t.Fatalf("Run never became ready: %v", <-done)
	}
	resp, err := http.Get(base + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "pages" {
		t.Errorf("/dashboard answered %q, want the extra handler", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

func TestRunErrors(t *testing.T) {
	bad := apiserver.DefaultConfig()
	bad.CityCode = "5101"
	wh := warehouse.DefaultConfig()
	wh.Addr = "127.0.0.1:1" // nothing listens there
	tests := []struct {
		name  string
		cfg   apiserver.Config
		wh    warehouse.Config
		extra map[string]http.Handler
	}{
		{"bad config", bad, warehouse.DefaultConfig(), nil},
		{"no warehouse", apiserver.DefaultConfig(), wh, nil},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := apiserver.Run(ctx, tt.cfg, tt.wh, nil, nil, tt.extra); err == nil {
			t.Errorf("%s: Run returned nil", tt.name)
		}
		cancel()
	}
}
