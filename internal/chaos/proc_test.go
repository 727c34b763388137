//go:build linux

package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the directory of the module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		t.Fatal("go env GOMOD: not inside the module")
	}
	return filepath.Dir(mod)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// buildCitypulse builds the real binary into a temporary directory.
func buildCitypulse(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "citypulse")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "./cmd/citypulse")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/citypulse: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// collectorProc is `citypulse collector` running as a child process; every start writes its
// output to the same log, shown when the test fails.
type collectorProc struct {
	t       *testing.T
	bin     string
	args    []string
	listen  string
	log     bytes.Buffer // written by the child's copier goroutines through lockedWriter
	logw    *lockedWriter
	cmd     *exec.Cmd
	exited  chan struct{}
	starts  int
	waitErr error
}

func newCollectorProc(t *testing.T, bin, brokers, listen, writeKey string) *collectorProc {
	p := &collectorProc{t: t, bin: bin, listen: listen,
		args: []string{"collector", "-kafka-brokers", brokers, "-kafka-embedded=false", "-collector-listen", listen,
			"-write-keys", writeKey, "-log-level", "warn", "-meta-dsn", "sqlite:" + t.TempDir() + "/citypulse.db"}}
	p.logw = &lockedWriter{w: &p.log}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("collector output:\n%s", p.logw.String())
		}
	})
	return p
}

// start runs the collector and waits until it answers /healthz.
func (p *collectorProc) start(ctx context.Context) {
	p.t.Helper()
	p.starts++
	fmt.Fprintf(p.logw, "--- start %d\n", p.starts)
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = p.logw, p.logw
	// The child dies with the test process, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start collector: %v", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { p.waitErr = cmd.Wait(); close(done) }(p.exited)
	cl := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-p.exited:
			p.t.Fatalf("collector exited while starting: %v\n%s", p.waitErr, p.logw.String())
		case <-ctx.Done():
			p.t.Fatalf("collector not ready on %s: %v", p.listen, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := cl.Get("http://" + p.listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
}

// kill sends SIGKILL and reaps the process; nothing of it survives to flush or answer.
func (p *collectorProc) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// stop asks the collector to drain and exit (SIGTERM), killing it if it takes over 15 s.
func (p *collectorProc) stop() error {
	if p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.kill()
		return errors.New("collector did not stop within 15s of SIGTERM")
	}
	p.cmd = nil
	return p.waitErr
}

// childEnv is the test's environment without CITYPULSE_* variables: the child is configured by
// its flags only.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CITYPULSE_") {
			env = append(env, kv)
		}
	}
	return env
}
