package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The wrk generator (-client wrk): Debian's wrk, the C load generator the issue names, as the
// child process of a round. It writes the same pre-encoded requests as the raw client (the
// bodies round-robin, byte for byte the same headers), closed loop over -conns connections on
// two threads. wrk reports its latency distribution, not each request's, so a round
// contributes 1,000 quantiles of it (0.05% to 99.95%) to the side's latencies; rounds of equal
// length weigh alike. wrk has no open-loop mode, so the open-loop latency run uses the raw
// client.

// wrkScript loads the requests from files (one per body, in every wrk thread), sends them
// round-robin from a per-thread offset (setup numbers the threads), and prints the summary and the quantiles as one JSON
// line prefixed "wrkresult ".
const wrkScript = `
local reqs = {}
local n = 0
local i = 0
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  local dir = args[1]
  n = tonumber(args[2])
  for k = 1, n do
    local f = assert(io.open(dir .. "/" .. k .. ".req", "rb"))
    reqs[k] = f:read("*a")
    f:close()
  end
  i = ((id or 0) * 101) % n
end
function request()
  i = i % n + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  local q = {}
  for k = 1, 1000 do
    q[k] = tostring(latency:percentile((k - 0.5) / 10))
  end
  io.write(string.format('wrkresult {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"quantiles_us":[%s]}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, table.concat(q, ",")))
end
`

// wrkResult is the line wrkScript's done prints.
type wrkResult struct {
	Requests   int64     `json:"requests"` // completed, whatever their status
	DurationUS int64     `json:"duration_us"`
	Connect    int64     `json:"connect"`
	Read       int64     `json:"read"`
	Write      int64     `json:"write"`
	Status     int64     `json:"status"` // answered, but not 2xx or 3xx
	Timeout    int64     `json:"timeout"`
	Quantiles  []float64 `json:"quantiles_us"`
}

// wrkFiles writes the encoded requests and the script into a new temp dir.
func wrkFiles(url string, bodies [][]byte) (dir string, err error) {
	reqs, err := encodeRequests(url, bodies)
	if err != nil {
		return "", err
	}
	dir, err = os.MkdirTemp("", "loadgen-wrk-")
	if err != nil {
		return "", err
	}
	for i, r := range reqs {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i+1)+".req"), r, 0o600); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.lua"), []byte(wrkScript), 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// wrkSeconds is d rounded up to whole seconds, as wrk's -d takes them.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))) + "s"
}

// runWrk runs wrk once for d and returns its result and its CPU time.
func runWrk(ctx context.Context, o options, dir, url string, n int, d time.Duration) (wrkResult, time.Duration, error) {
	threads := min(2, o.conns)
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(o.conns),
		"-d", wrkSeconds(d), "--timeout", "30s", "-s", filepath.Join(dir, "bench.lua"), url, "--", dir, strconv.Itoa(n))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("wrk: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "wrkresult "); ok {
			var w wrkResult
			if err := json.Unmarshal([]byte(rest), &w); err != nil {
				return wrkResult{}, 0, fmt.Errorf("wrk result: %w", err)
			}
			return w, cpu, nil
		}
	}
	return wrkResult{}, 0, fmt.Errorf("wrk printed no result: %s", strings.TrimSpace(string(out)))
}

// loadWrk runs one round against url with wrk: a warm-up run, then the measured one. The
// result's cpu is this process's (the server's) over the measured run, genCPU wrk's.
func loadWrk(ctx context.Context, o options, url string, bodies [][]byte, dur time.Duration, phase func(bool)) (result, error) {
	if _, err := exec.LookPath("wrk"); err != nil {
		return result{}, errors.New("-client wrk needs wrk on PATH (Debian: apt-get install wrk; deploy/install.sh --bench)")
	}
	dir, err := wrkFiles(url, bodies)
	if err != nil {
		return result{}, fmt.Errorf("wrk files: %w", err)
	}
	defer os.RemoveAll(dir)
	var res result
	if o.warmup > 0 {
		w, _, err := runWrk(ctx, o, dir, url, len(bodies), o.warmup)
		if err != nil {
			return result{}, fmt.Errorf("warm-up: %w", err)
		}
		res.ackedTotal += (w.Requests - w.Status) * int64(o.batch)
	}
	if phase != nil {
		phase(true)
	}
	cpu0 := cpuTime()
	w, genCPU, err := runWrk(ctx, o, dir, url, len(bodies), dur)
	res.cpu = cpuTime() - cpu0
	if phase != nil {
		phase(false)
	}
	if err != nil {
		return result{}, err
	}
	ok := w.Requests - w.Status
	res.requests = ok
	res.errors = w.Status + w.Connect + w.Read + w.Write + w.Timeout
	res.events = ok * int64(o.batch)
	res.ackedTotal += res.events
	res.elapsed = time.Duration(w.DurationUS) * time.Microsecond
	res.genCPU = genCPU
	for _, q := range w.Quantiles {
		res.latencies = append(res.latencies, time.Duration(q*float64(time.Microsecond)))
	}
	if res.errors > 0 {
		res.firstError = fmt.Sprintf("wrk: %d connect, %d read, %d write, %d timeout errors, %d answers not 2xx/3xx",
			w.Connect, w.Read, w.Write, w.Timeout, w.Status)
	}
	return res, nil
}
