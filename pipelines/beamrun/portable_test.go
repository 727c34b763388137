package beamrun_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/citypulse/citypulse/pipelines/beamrun"
	"github.com/citypulse/citypulse/pipelines/beamrun/beamruntest"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

func init() {
	register.Function1x2(withZero)
	register.Function2x2(keyByDigit)
	register.Function2x1(formatSum)
	register.DoFn2x1[context.Context, string, error](&fileSink{})
}

func withZero(x int) (int, int)             { return x, 0 }
func keyByDigit(n int, _ int) (string, int) { return fmt.Sprintf("d%d", n%7), n }
func formatSum(k string, v int) string      { return fmt.Sprintf("%s=%d", k, v) }

// fileSink appends its elements, one a line, to a file per bundle in Dir: it works the same
// whichever process (or machine with a shared disk) runs the bundle.
type fileSink struct {
	Dir   string
	lines []string
}

func (f *fileSink) ProcessElement(_ context.Context, s string) error {
	f.lines = append(f.lines, s)
	return nil
}

func (f *fileSink) FinishBundle(_ context.Context) error {
	if len(f.lines) == 0 {
		return nil
	}
	fh, err := os.CreateTemp(f.Dir, "bundle-*")
	if err != nil {
		return err
	}
	_, err = fh.WriteString(strings.Join(f.lines, "\n") + "\n")
	f.lines = f.lines[:0]
	return errors.Join(err, fh.Close())
}

// sums builds: 1…n keyed by n mod 7, summed per key, written as "key=sum" lines under dir.
func sums(n int, dir string) *beam.Pipeline {
	p, s := beam.NewPipelineWithRoot()
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i + 1
	}
	kv := beam.ParDo(s, withZero, beam.CreateList(s, xs))
	summed := stats.SumPerKey(s, beam.ParDo(s, keyByDigit, kv))
	lines := beam.ParDo(s, formatSum, summed)
	beam.ParDo0(s, &fileSink{Dir: dir}, lines)
	return p
}

func readLines(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "bundle-*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Fields(string(b))...)
	}
	slices.Sort(out)
	return out
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestPortableMatchesInProcess: the same bounded pipeline gives the same lines on in-process
// Prism and through the Job API of a standalone Prism job server (universal and flink names).
func TestPortableMatchesInProcess(t *testing.T) {
	endpoint := beamruntest.JobServer(t)
	ctx := testCtx(t)
	const n = 5000
	want := make([]string, 0, 7)
	for d := range 7 {
		sum := 0
		for x := 1; x <= n; x++ {
			if x%7 == d {
				sum += x
			}
		}
		want = append(want, fmt.Sprintf("d%d=%d", d, sum))
	}
	cases := []struct {
		name string
		o    beamrun.Options
	}{
		{"in-process prism", beamrun.Default()},
		{"universal", beamrun.Options{Runner: "universal", Endpoint: endpoint, EnvironmentType: "LOOPBACK", JobName: "beamrun-universal"}},
		{"flink name", beamrun.Options{Runner: "flink", Endpoint: endpoint, EnvironmentType: "loopback"}},
		{"prism job server", beamrun.Options{Runner: "prism", Endpoint: endpoint, EnvironmentType: "LOOPBACK"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			pr, err := beamrun.Run(ctx, c.o, sums(n, dir))
			if err != nil {
				t.Fatal(err)
			}
			if got := readLines(t, dir); !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			if pr == nil {
				t.Fatal("no pipeline result")
			}
			_ = pr.Metrics() // metrics must be readable on every path
		})
	}
}

// TestBadEndpoint: an endpoint where nothing listens fails with an error that names the runner
// and the endpoint, after the connect timeout, not the caller's deadline.
func TestBadEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	cases := []struct{ name, endpoint string }{
		{"nothing listening", closed},
		{"unresolvable host", "no-such-host.invalid:8099"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := testCtx(t)
			o := beamrun.Options{Runner: "flink", Endpoint: c.endpoint, EnvironmentType: "LOOPBACK", ConnectTimeout: 2 * time.Second}
			_, err := beamrun.Run(ctx, o, sums(10, t.TempDir()))
			if err == nil {
				t.Fatal("want an error")
			}
			if ctx.Err() != nil {
				t.Fatalf("the run used up the caller's deadline: %v", err)
			}
			for _, s := range []string{"runner flink at " + c.endpoint, "job server not reachable within 2s"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

// TestRunErrors: invalid options and a cancelled job name the problem.
func TestRunErrors(t *testing.T) {
	_, err := beamrun.Run(testCtx(t), beamrun.Options{Runner: "flink"}, sums(1, t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "beam-endpoint: empty") {
		t.Errorf("got %v, want the missing endpoint named", err)
	}
}
