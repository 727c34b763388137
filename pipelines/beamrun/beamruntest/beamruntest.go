// Package beamruntest starts a real standalone Prism job server (Beam's cmd/prism, built from the
// module cache) for tests of the portable path: it serves the same Beam Job API as Flink's job
// server, so a pipeline submitted to it goes through everything a Flink submission does
// (pipeline model, artifact staging, job service, workers over the Fn API).
//
// It must not be imported by non-test code. Without a Go toolchain able to build cmd/prism the
// test is skipped, or fails when CI=true.
package beamruntest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core"
)

// PrismPackage is the standalone Prism job server's main package (same module version as the SDK
// the project builds with, so the Job API matches).
const PrismPackage = "github.com/apache/beam/sdks/v2/go/cmd/prism"

var build struct {
	once sync.Once
	bin  string
	out  []byte
	err  error
}

// prismBinary builds cmd/prism once per SDK version into the temporary directory (kept there, so
// later test runs reuse it; a new SDK version gets a new path).
func prismBinary() (string, []byte, error) {
	build.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "citypulse-prism-"+core.SdkVersion)
		build.bin = filepath.Join(dir, "prism")
		if _, err := os.Stat(build.bin); err == nil {
			return
		}
		if build.err = os.MkdirAll(dir, 0o755); build.err != nil {
			return
		}
		tmp := fmt.Sprintf("%s.%d", build.bin, os.Getpid())
		cmd := exec.Command("go", "build", "-o", tmp, PrismPackage)
		if build.out, build.err = cmd.CombinedOutput(); build.err != nil {
			return
		}
		build.err = os.Rename(tmp, build.bin) // atomic: concurrent test binaries never run a half-written file
	})
	return build.bin, build.out, build.err
}

var endpointRE = regexp.MustCompile(`endpoint=(\S+)`)

// JobServer starts a standalone Prism job server on a free port and returns its host:port. It
// stops when the test ends.
func JobServer(t testing.TB) string {
	t.Helper()
	bin, out, err := prismBinary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("build %s (CI=true forbids skipping): %v\n%s", PrismPackage, err, out)
		}
		t.Skipf("build %s: %v\n%s", PrismPackage, err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-job_port=0", "-serve_http=false", "-log_kind=text", "-log_level=info")
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start prism job server: %v", err)
	}
	found := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := endpointRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
				break
			}
		}
		io.Copy(io.Discard, stderr) // keep the pipe drained so the server never blocks on logging
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		<-done
	})
	select {
	case ep := <-found:
		return ep
	case <-done:
		t.Fatal("prism job server exited before announcing its endpoint")
	case <-time.After(time.Minute):
		t.Fatal("prism job server did not announce its endpoint within a minute")
	}
	return ""
}
