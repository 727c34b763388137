package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// result is one side's measurement.
type result struct {
	requests   int64 // answered 200 during the measurement
	errors     int64 // failed or not 200 during the measurement
	events     int64 // in the requests answered 200
	elapsed    time.Duration
	cpu        time.Duration   // CPU time (user+system) of the process during the measurement: with -gen process the server's alone
	genCPU     time.Duration   // -gen process: the generator's CPU time during the measurement
	produce    time.Duration   // collector: mean time from producing a request's records to their acknowledgement
	latencies  []time.Duration // of the requests answered 200
	ackedTotal int64           // events answered 200, warm-up included
	firstError string

	produceFrom *prometheus.Registry // collector: where finish reads the produce latency
}

// merge adds a round's result.
func (r *result) merge(o result) {
	r.requests += o.requests
	r.errors += o.errors
	r.events += o.events
	r.elapsed += o.elapsed
	r.cpu += o.cpu
	r.genCPU += o.genCPU
	r.latencies = append(r.latencies, o.latencies...)
	r.ackedTotal += o.ackedTotal
	if r.firstError == "" {
		r.firstError = o.firstError
	}
}

// finish sorts the latencies and reads the produce latency.
func (r *result) finish() {
	slices.Sort(r.latencies)
	if r.produceFrom != nil {
		r.produce = produceLatency(r.produceFrom)
	}
}

func (r result) eventsPerSec() float64 { return float64(r.events) / r.elapsed.Seconds() }

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p * float64(len(r.latencies)-1))
	return r.latencies[i]
}

// cpuPerEvent is the CPU time (server, load generator and, for the collector, the broker)
// spent per event answered: unlike events/s it does not depend on how much of the machine
// other processes took.
func (r result) cpuPerEvent() time.Duration { return perEvent(r.cpu+r.genCPU, r.events) }

func perEvent(d time.Duration, events int64) time.Duration {
	if events == 0 {
		return 0
	}
	return d / time.Duration(events)
}

// cores is the CPU used on average during the measurement.
func (r result) cores() float64 { return (r.cpu + r.genCPU).Seconds() / r.elapsed.Seconds() }

// cpuSplit is the CPU used, split into server and generator when they ran apart: "cores"
// or "cores/event".
func (r result) cpuSplit() (cores, perEv string) {
	if r.genCPU == 0 {
		return fmt.Sprintf("%.2f", r.cores()), r.cpuPerEvent().String()
	}
	return fmt.Sprintf("%.2f + %.2f", r.cpu.Seconds()/r.elapsed.Seconds(), r.genCPU.Seconds()/r.elapsed.Seconds()),
		fmt.Sprintf("%s + %s", perEvent(r.cpu, r.events), perEvent(r.genCPU, r.events))
}

func (r result) line(name string) string {
	cores, perEv := r.cpuSplit()
	s := fmt.Sprintf("%-14s %10.0f events/s  %8.0f req/s  p50 %7s  p99 %7s  errors %d  cpu %s cores, %s /event",
		name, r.eventsPerSec(), float64(r.requests)/r.elapsed.Seconds(), ms(r.percentile(0.50)), ms(r.percentile(0.99)), r.errors,
		cores, perEv)
	if r.produce > 0 {
		s += fmt.Sprintf("  (produce→ack mean %s)", ms(r.produce))
	}
	if r.firstError != "" {
		s += " (first: " + r.firstError + ")"
	}
	return s
}

// latencyLine is an open-loop run's line.
func (r result) latencyLine(name string) string {
	s := fmt.Sprintf("  %-14s %10.0f events/s answered  p50 %7s  p99 %7s  errors %d", name, r.eventsPerSec(),
		ms(r.percentile(0.50)), ms(r.percentile(0.99)), r.errors)
	if r.firstError != "" {
		s += " (first: " + r.firstError + ")"
	}
	return s
}

func (r result) markdown(name string) string {
	cores, perEv := r.cpuSplit()
	return fmt.Sprintf("| %s | %.0f | %.0f | %s | %s | %d | %s | %s |", name, r.eventsPerSec(), float64(r.requests)/r.elapsed.Seconds(),
		ms(r.percentile(0.50)), ms(r.percentile(0.99)), r.errors, cores, perEv)
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms" }

// load runs o.conns closed-loop workers against url: o.warmup, then dur measured.
func load(ctx context.Context, o options, url string, bodies [][]byte, dur time.Duration, phase func(bool)) (result, error) {
	tr := &http.Transport{
		MaxIdleConns:        o.conns,
		MaxIdleConnsPerHost: o.conns,
		MaxConnsPerHost:     o.conns,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	var (
		measuring atomic.Bool
		acked     atomic.Int64
		mu        sync.Mutex
		res       result
		wg        sync.WaitGroup
	)
	var reqs [][]byte // raw client: the encoded requests
	if o.client == "raw" {
		var err error
		if reqs, err = encodeRequests(url, bodies); err != nil {
			return result{}, err
		}
	}
	host := strings.TrimPrefix(url, "http://")
	host, _, _ = strings.Cut(host, "/")
	var stopping atomic.Bool // workers finish their request in flight, then stop
	for w := range o.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				lat           []time.Duration
				okN, errN, ev int64
				firstErr      string
			)
			raw := &rawClient{addr: host}
			defer raw.close()
			// Open loop (-rate): each connection sends on its own schedule, and a request's
			// latency counts from when it was due, so that a slow answer delaying the next
			// request is not hidden (coordinated omission).
			var interval time.Duration
			due := time.Now()
			if o.rate > 0 {
				interval = time.Duration(float64(o.conns*o.batch) / o.rate * float64(time.Second))
				due = due.Add(interval * time.Duration(w) / time.Duration(o.conns))
			}
			for i := w; !stopping.Load() && ctx.Err() == nil; i += o.conns {
				start := time.Now()
				if interval > 0 {
					if wait := due.Sub(start); wait > 0 {
						time.Sleep(wait)
					}
					start = due
					due = due.Add(interval)
				}
				var (
					status int
					err    error
				)
				if reqs != nil {
					status, err = raw.do(ctx, reqs[i%len(reqs)])
				} else {
					status, err = post(ctx, cl, url, bodies[i%len(bodies)])
				}
				d := time.Since(start)
				if ctx.Err() != nil {
					break
				}
				ok := err == nil && status == http.StatusOK
				if ok {
					acked.Add(int64(o.batch))
				}
				if !measuring.Load() {
					continue
				}
				switch {
				case ok:
					okN++
					ev += int64(o.batch)
					lat = append(lat, d)
				default:
					errN++
					if firstErr == "" {
						firstErr = fmt.Sprintf("status %d, %v", status, err)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			mu.Lock()
			res.requests += okN
			res.errors += errN
			res.events += ev
			res.latencies = append(res.latencies, lat...)
			if res.firstError == "" {
				res.firstError = firstErr
			}
			mu.Unlock()
		}()
	}
	select {
	case <-time.After(o.warmup):
	case <-ctx.Done():
	}
	if phase != nil {
		phase(true)
	}
	measuring.Store(true)
	start, cpu0 := time.Now(), cpuTime()
	select {
	case <-time.After(dur):
	case <-ctx.Done():
	}
	measuring.Store(false)
	res.elapsed, res.cpu = time.Since(start), cpuTime()-cpu0
	if phase != nil {
		phase(false)
	}
	stopping.Store(true)
	wg.Wait()
	res.ackedTotal = acked.Load()
	return res, ctx.Err()
}

func post(ctx context.Context, cl *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.SetBasicAuth(writeKey, "")
	resp, err := cl.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// makeBodies generates n Segment batch bodies of batch events each, as a city app's SDK sends
// them: one batch comes from one device (one user, app version, OS, session, home community),
// a mix of tracks (70%), pages (20%, service_id as a string, which the collector rewrites) and
// screens, with realistic context and properties.
func makeBodies(n, batch int, seed uint64) [][]byte {
	rnd := rand.New(rand.NewPCG(seed, seed))
	events := []string{"Service Viewed", "Service Searched", "Service Started", "Service Completed", "Notice Opened", "Booking Made"}
	oses := []string{`{"name":"iOS","version":"17.4.1"}`, `{"name":"Android","version":"14"}`, `{"name":"HarmonyOS","version":"4.1"}`}
	out := make([][]byte, n)
	for i := range out {
		user := rnd.IntN(100000)
		region := fmt.Sprintf("5101%02d%03d%03d", 4+rnd.IntN(20), 1+rnd.IntN(30), 1+rnd.IntN(20))
		ctx := fmt.Sprintf(`{"app":{"name":"citypulse","version":"3.%d.0","build":"%d"},"os":%s,"device":{"type":"mobile","manufacturer":"Huawei"},"library":{"name":"citypulse-js","version":"1.0.0"},"locale":"zh-CN","region_code":"%s","session_id":"s-%d-%d","network":{"wifi":true}}`,
			rnd.IntN(5), 100+rnd.IntN(50), oses[rnd.IntN(len(oses))], region, user, rnd.IntN(10))
		var b bytes.Buffer
		b.WriteString(`{"sentAt":"` + time.Now().UTC().Format(time.RFC3339Nano) + `","batch":[`)
		for j := range batch {
			if j > 0 {
				b.WriteByte(',')
			}
			ts := time.Now().UTC().Add(-time.Duration(rnd.IntN(60000)) * time.Millisecond).Format(time.RFC3339Nano)
			switch k := rnd.IntN(10); {
			case k < 7:
				fmt.Fprintf(&b, `{"type":"track","event":"%s","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d-%d-%d","timestamp":"%s","properties":{"service_id":%d,"region_code":"%s","duration_ms":%d,"source_page":"home"},"context":%s}`,
					events[rnd.IntN(len(events))], user, user, seed, i, j, ts, 1+rnd.IntN(230), region, rnd.IntN(30000), ctx)
			case k < 9:
				fmt.Fprintf(&b, `{"type":"page","name":"Service Detail","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d-%d-%d","timestamp":"%s","properties":{"path":"/services/%d","title":"办事指南","service_id":"%d"},"context":%s}`,
					user, user, seed, i, j, ts, rnd.IntN(230), 1+rnd.IntN(230), ctx)
			default:
				fmt.Fprintf(&b, `{"type":"screen","name":"Map","userId":"u-%d","anonymousId":"a-%d","messageId":"m-%d-%d-%d","timestamp":"%s","context":%s}`,
					user, user, seed, i, j, ts, ctx)
			}
		}
		b.WriteString(`]}`)
		out[i] = b.Bytes()
	}
	return out
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
