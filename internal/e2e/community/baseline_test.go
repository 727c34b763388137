package community

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/pipelines/cleaning"
	"github.com/citypulse/citypulse/warehouse"
)

// baseline measures clickhouse-client inserting the rows the pipeline wrote to dwd_person,
// exported as CSV, into an empty table of the same shape: the floor of what loading clean rows
// costs on this server, in the same run. Without clickhouse-client it records nothing (and fails
// when CI=true).
func baseline(b *testing.B, wh warehouse.Config, conn driver.Conn, serverPID string, r *benchResult) {
	b.Helper()
	client, err := exec.LookPath("clickhouse-client")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("no clickhouse-client for the baseline, and CI=true forbids skipping it: %v", err)
		}
		b.Logf("no clickhouse-client: no baseline (%v)", err)
		return
	}
	host, port, err := net.SplitHostPort(wh.Addr)
	if err != nil {
		b.Fatal(err)
	}
	cols := strings.Join(cleaning.Specs["person"].ColumnNames(), ", ")
	csvPath := filepath.Join(b.TempDir(), "dwd_person.csv")
	client1 := func(query string, stdin, stdout *os.File) *exec.Cmd {
		args := []string{"--host", host, "--port", port, "--database", wh.Database, "--query", query}
		if wh.User != "" {
			args = append(args, "--user", wh.User)
		}
		if wh.Password != "" {
			args = append(args, "--password", wh.Password)
		}
		cmd := exec.Command(client, args...)
		if stdin != nil {
			cmd.Stdin = stdin
		}
		if stdout != nil {
			cmd.Stdout = stdout
		}
		return cmd
	}
	run := func(cmd *exec.Cmd) {
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v: %s", strings.Join(cmd.Args, " "), err, stderr.String())
		}
	}
	out, err := os.Create(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	run(client1("SELECT "+cols+" FROM dwd_person FORMAT CSV", nil, out))
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	run(client1("CREATE TABLE bench_baseline AS dwd_person", nil, nil))
	in, err := os.Open(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	cmd := client1("INSERT INTO bench_baseline ("+cols+") FORMAT CSV", in, nil)
	t0, server0 := time.Now(), cpuOf(serverPID)
	b.StartTimer()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	peak := watchPeak(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%s: %v: %s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	b.StopTimer()
	r.BaselineSeconds = time.Since(t0).Seconds()
	r.ServerBaselineCPU = (cpuOf(serverPID) - server0).Seconds()
	r.BaselineCPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	r.BaselineRSS = peak()
	// dwd_person's merges may have collapsed some of the rows the pipeline wrote (a person sent
	// twice) before the export: the baseline inserts what was exported.
	r.Baseline = int64(count(b, conn, `SELECT count() FROM bench_baseline`))
	if r.Baseline < r.FinalRows || r.Baseline > r.Written {
		b.Fatalf("baseline inserted %d rows; the pipeline wrote %d, %d FINAL", r.Baseline, r.Written, r.FinalRows)
	}
}
