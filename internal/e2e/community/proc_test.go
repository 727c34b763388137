package community

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/bus"
)

// brokerEnv, set to a data directory, makes the test binary run only the embedded broker (the
// benchmark's broker process): it prints the broker's address and runs until stdin closes.
const brokerEnv = "CITYPULSE_E2E_BROKER_DIR"

// brokerChild runs the broker process when brokerEnv is set and reports whether it did.
func brokerChild() bool {
	dir := os.Getenv(brokerEnv)
	if dir == "" {
		return false
	}
	cfg := bus.DefaultConfig()
	cfg.Brokers, cfg.DataDir = []string{"127.0.0.1:0"}, dir
	emb, err := bus.StartEmbedded(cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker process:", err)
		os.Exit(1)
	}
	fmt.Println(strings.Join(emb.Addrs(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it, or exits
	emb.Close()
	return true
}

// brokerProc is the embedded broker in a process of its own, so that the benchmark measures the
// memory of the gateway and the pipeline apart from the broker's (kfake keeps every record in
// memory besides its data directory).
type brokerProc struct {
	cmd   *exec.Cmd
	addrs []string
}

// startBroker starts the broker process; it stops when the test ends.
func startBroker(tb testing.TB) *brokerProc {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), brokerEnv+"="+tb.TempDir())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the broker process: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("broker process: %v", err)
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(s)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		if s == "" {
			tb.Fatal("the broker process printed no address")
		}
		return &brokerProc{cmd: cmd, addrs: strings.Split(s, ",")}
	case <-time.After(time.Minute):
		tb.Fatal("the broker process did not start within a minute")
	}
	return nil
}

// busConfig is the bus configuration that reaches the broker process.
func (p *brokerProc) busConfig() bus.Config {
	cfg := bus.DefaultConfig()
	cfg.Brokers, cfg.Embedded, cfg.DataDir = p.addrs, false, ""
	return cfg
}

// procStat is what the benchmark reads of a process: peak resident memory since the last reset
// and CPU time.
type procStat struct {
	PeakRSS int64 // bytes (VmHWM)
	CPU     time.Duration
}

// readProc reads a process's peak RSS and CPU time ("self" for this one).
func readProc(tb testing.TB, pid string) procStat {
	tb.Helper()
	var st procStat
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range bytes.Split(status, []byte("\n")) {
		if f := strings.Fields(string(l)); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			st.PeakRSS = kb << 10
		}
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command (which may hold spaces) start at state; utime and stime are
	// fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
	rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	stt, _ := strconv.ParseInt(rest[12], 10, 64)
	st.CPU = time.Duration(ut+stt) * 10 * time.Millisecond
	return st
}

// resetPeak resets a process's VmHWM to its current RSS.
func resetPeak(tb testing.TB, pid string) {
	tb.Helper()
	if err := os.WriteFile("/proc/"+pid+"/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatalf("reset the peak RSS of %s: %v", pid, err)
	}
}

// selfCPU is this process's CPU time (more precise than /proc's ticks).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watchPeak polls a running process's peak RSS every 50 ms; the function it returns stops
// polling and gives the last value read, in bytes. (A child's rusage cannot tell: Go starts
// children with vfork, so their ru_maxrss includes this process's.)
func watchPeak(pid int) func() int64 {
	var peak atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
						if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb<<10 > peak.Load() {
							peak.Store(kb << 10)
						}
					}
				}
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}
