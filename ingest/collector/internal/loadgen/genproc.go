package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The load generator in its own process (-gen process, the default): the parent serves, a
// child it starts per round loads, so that each process's CPU time is its own. The child
// prints "measuring" when its measurement starts, "done" when it ends and then "result " and
// its result as JSON; the parent reads its own CPU time at the two marks.

// genResult is what a generator child reports.
type genResult struct {
	Requests   int64           `json:"requests"`
	Errors     int64           `json:"errors"`
	Events     int64           `json:"events"`
	Elapsed    time.Duration   `json:"elapsed"`
	CPU        time.Duration   `json:"cpu"`
	Latencies  []time.Duration `json:"latencies"`
	Acked      int64           `json:"acked"`
	FirstError string          `json:"first_error,omitempty"`
}

// runGenerator is the child: it loads o.url for o.duration after o.warmup and reports on out.
func runGenerator(ctx context.Context, o options, out io.Writer) error {
	if o.url == "" {
		return errors.New("-role generator needs -url")
	}
	bodies := makeBodies(o.bodies, o.batch, 1)
	phase := func(measuring bool) {
		if measuring {
			fmt.Fprintln(out, "measuring")
		} else {
			fmt.Fprintln(out, "done")
		}
	}
	r, err := load(ctx, o, o.url, bodies, o.duration, phase)
	if err != nil {
		return err
	}
	b, err := json.Marshal(genResult{Requests: r.requests, Errors: r.errors, Events: r.events, Elapsed: r.elapsed, CPU: r.cpu,
		Latencies: r.latencies, Acked: r.ackedTotal, FirstError: r.firstError})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "result %s\n", b)
	return err
}

// loadProcess runs one round against url with a generator child: the result's cpu is this
// process's (the server's), genCPU the child's.
func loadProcess(ctx context.Context, o options, url string, dur time.Duration, phase func(bool)) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, fmt.Errorf("generator: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, "-role", "generator", "-url", url,
		"-conns", strconv.Itoa(o.conns), "-batch", strconv.Itoa(o.batch), "-bodies", strconv.Itoa(o.bodies),
		"-client", o.client, "-duration", dur.String(), "-warmup", o.warmup.String(),
		"-rate", strconv.FormatFloat(o.rate, 'f', -1, 64))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, fmt.Errorf("generator: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("generator: %w", err)
	}
	var (
		res      result
		gr       genResult
		got      bool
		cpu0     time.Duration
		measured bool
	)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 256<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "measuring":
			if phase != nil {
				phase(true)
			}
			cpu0 = cpuTime()
		case line == "done":
			res.cpu = cpuTime() - cpu0
			measured = true
			if phase != nil {
				phase(false)
			}
		case strings.HasPrefix(line, "result "):
			if err := json.Unmarshal([]byte(line[len("result "):]), &gr); err != nil {
				_ = cmd.Wait()
				return result{}, fmt.Errorf("generator result: %w", err)
			}
			got = true
		}
	}
	if err := cmd.Wait(); err != nil {
		return result{}, fmt.Errorf("generator: %w", err)
	}
	if !got || !measured {
		return result{}, errors.New("generator ended without a result")
	}
	res.requests, res.errors, res.events, res.elapsed = gr.Requests, gr.Errors, gr.Events, gr.Elapsed
	res.genCPU, res.latencies, res.ackedTotal, res.firstError = gr.CPU, gr.Latencies, gr.Acked, gr.FirstError
	return res, nil
}
