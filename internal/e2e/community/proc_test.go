package community

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
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
	st.CPU = statCPU(stat)
	return st
}

// statCPU is the CPU time in a /proc/<pid>/stat line. Fields after the command (which may hold
// spaces) start at state; utime and stime are fields 14 and 15 of the line, in clock ticks (100
// per second on Linux).
func statCPU(stat []byte) time.Duration {
	rest := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(rest) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	stt, _ := strconv.ParseInt(rest[12], 10, 64)
	return time.Duration(ut+stt) * 10 * time.Millisecond
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

// listenerPID finds the process listening on addr's TCP port on this machine (the ClickHouse
// server the benchmark loads, to count its CPU): the socket's inode from /proc/net/tcp{,6}, then
// the process holding it. It returns "" when the port is not a local listener this process may
// inspect (a remote server, another user's process).
func listenerPID(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return ""
	}
	want := fmt.Sprintf(":%04X", p)
	var inode string
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(l)
			// local_address rem_address st …; st 0A is LISTEN; the inode is field 9.
			if len(f) > 9 && strings.HasSuffix(f[1], want) && f[3] == "0A" {
				inode = f[9]
				break
			}
		}
		if inode != "" {
			break
		}
	}
	if inode == "" {
		return ""
	}
	target := "socket:[" + inode + "]"
	procs, _ := os.ReadDir("/proc")
	for _, d := range procs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		fds, err := os.ReadDir("/proc/" + d.Name() + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/" + d.Name() + "/fd/" + fd.Name()); err == nil && l == target {
				return d.Name()
			}
		}
	}
	return ""
}

// cpuOf is a process's CPU time, or 0 when pid is "" or gone.
func cpuOf(pid string) time.Duration {
	if pid == "" {
		return 0
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	return statCPU(stat)
}

// TestListenerPID: the benchmark finds the process listening on a port (here this one); a port
// nobody listens on gives no process.
func TestListenerPID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if got, want := listenerPID(addr), strconv.Itoa(os.Getpid()); got != want {
		t.Errorf("listenerPID(%s) = %q, want this process %s", addr, got, want)
	}
	ln.Close()
	if got := listenerPID(addr); got != "" {
		t.Errorf("listenerPID(%s) after close = %q, want none", addr, got)
	}
	if got := listenerPID("not an address"); got != "" {
		t.Errorf("listenerPID(bad address) = %q", got)
	}
}
