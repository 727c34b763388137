package dashboards

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// static holds live.js, screen.css and echarts.min.js (copied from the npm package by
// `make assets`; not in git).
//
//go:embed static
var static embed.FS

// EChartsFile is the asset every page loads; `make assets` puts it in static/.
const EChartsFile = "echarts.min.js"

// ErrNoECharts means the binary was built without running `make assets` first.
var ErrNoECharts = errors.New("dashboards/static/" + EChartsFile + " is missing: run `make assets` before building")

// New returns the handler of the pages: "/" redirects to /dashboard, /dashboard?region=<code>
// is the big screen, /assets/ serves the embedded static files. It needs the API on the same
// origin (mount both on one mux).
func New(cfg Config, log *slog.Logger) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dashboards config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	assets, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboards assets: %w", err)
	}
	if _, err := fs.Stat(assets, EChartsFile); err != nil {
		return nil, ErrNoECharts
	}
	page, err := renderScreen(cfg)
	if err != nil {
		return nil, err
	}
	built := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, DashboardPath, http.StatusFound)
	})
	mux.HandleFunc("GET "+DashboardPath, func(w http.ResponseWriter, r *http.Request) {
		if msg := checkRegion(r.URL.Query().Get("region")); msg != "" {
			http.Error(w, "region: "+msg, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "dashboard.html", built, bytes.NewReader(page))
	})
	mux.Handle("GET "+AssetsPath, http.StripPrefix(AssetsPath, http.FileServerFS(assets)))
	log.Debug("dashboards ready", "refresh", cfg.Refresh)
	return mux, nil
}

// checkRegion returns why a region parameter is malformed, or "" (empty means the city). Whether
// the region exists is the API's to say; the page shows its error.
func checkRegion(code string) string {
	if code == "" {
		return ""
	}
	if len(code) != 12 || strings.Trim(code, "0123456789") != "" {
		return "want a 12-digit region code (e.g. 510104000000)"
	}
	return ""
}
