package community

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sim "github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
	"github.com/citypulse/citypulse/pipelines"
)

var (
	flagRecords = flag.String("cleaning.records", "2000", "BenchmarkCleanPerson: comma-separated input sizes, in person records")
	flagDir     = flag.String("cleaning.dir", "", "BenchmarkCleanPerson: directory keeping the generated city between runs (empty: a temporary one)")
	flagProfile = flag.String("cleaning.profile", "", "BenchmarkCleanPerson: directory to write a CPU profile of each phase to (push-<n>.pprof, clean-<n>.pprof)")
	flagReport  = flag.String("cleaning.report", "", "BenchmarkCleanPerson: file to write the results to, as a Markdown table")
	flagRunRecs = flag.Int64("cleaning.run-records", 0, "BenchmarkCleanPerson: pipeline-max-run-records (0: the default); with -cleaning.heap, to see memory across runs")
	flagHeap    = flag.Bool("cleaning.heap", false, "BenchmarkCleanPerson: log the live heap after each pipeline run (forces a GC: a diagnostic, not a measurement)")
)

// benchResult is one size's run.
type benchResult struct {
	Records     int   `json:"records"`       // person records pushed
	Written     int64 `json:"written"`       // rows the pipeline wrote to dwd_person
	Quarantined int64 `json:"quarantined"`   // records it refused
	Bytes       int64 `json:"bytes"`         // size of the pushed files
	FinalRows   int64 `json:"final_rows"`    // dwd_person FINAL
	Baseline    int64 `json:"baseline_rows"` // rows clickhouse-client inserted

	PushSeconds     float64 `json:"push_s"`     // gateway: signed upload, Kafka and ods_feed_records
	CleanSeconds    float64 `json:"clean_s"`    // cleaning pipeline: Kafka to dwd_person
	BaselineSeconds float64 `json:"baseline_s"` // clickhouse-client INSERT … FORMAT CSV of the clean rows

	PushCPU   float64 `json:"push_cpu_s"`   // CPU seconds of this process (gateway, client) while pushing
	CleanCPU  float64 `json:"clean_cpu_s"`  // CPU seconds of this process (pipeline) while cleaning
	BrokerCPU float64 `json:"broker_cpu_s"` // CPU seconds of the broker process, both phases
	// CPU seconds of the ClickHouse server (when it runs on this machine) in each phase, and of
	// clickhouse-client in the baseline: what loading costs besides our processes.
	ServerPushCPU     float64 `json:"server_push_cpu_s"`
	ServerCleanCPU    float64 `json:"server_clean_cpu_s"`
	ServerBaselineCPU float64 `json:"server_baseline_cpu_s"`
	BaselineCPU       float64 `json:"baseline_cpu_s"`
	ServerMeasured    bool    `json:"server_measured"`

	PushRSS     int64 `json:"push_peak_rss"`     // peak RSS of this process while pushing
	CleanRSS    int64 `json:"clean_peak_rss"`    // peak RSS of this process while cleaning
	BrokerRSS   int64 `json:"broker_peak_rss"`   // peak RSS of the broker process
	BaselineRSS int64 `json:"baseline_peak_rss"` // peak RSS of clickhouse-client
}

func (r benchResult) e2eRate() float64   { return float64(r.Records) / (r.PushSeconds + r.CleanSeconds) }
func (r benchResult) cleanRate() float64 { return float64(r.Records) / r.CleanSeconds }
func (r benchResult) baseRate() float64 {
	if r.BaselineSeconds == 0 {
		return math.NaN()
	}
	return float64(r.Baseline) / r.BaselineSeconds
}

// BenchmarkCleanPerson cleans and loads person records (issue 4's benchmark): for each size in
// -cleaning.records, a fresh database and broker process; the simulator's person files
// (community office, UTF-8; police, GBK, Chinese columns, labels) cut to the size are pushed
// through the feeds gateway (phase push), then the cleaning pipeline runs from Kafka to
// dwd_person until nothing is unread (phase clean); the baseline is clickhouse-client inserting
// the rows the pipeline wrote, exported as CSV, into a table of the same shape. It reports rows/s
// end to end (push + clean), of the cleaning alone and of the baseline, and peak RSS of each
// process. scripts/bench-cleaning.sh runs it at 1M and 5M records.
func BenchmarkCleanPerson(b *testing.B) {
	var sizes []int
	for _, s := range strings.Split(*flagRecords, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("-cleaning.records %q: want positive integers", *flagRecords)
		}
		sizes = append(sizes, n)
	}
	c := benchCity(b, slices.Max(sizes))
	var results []benchResult
	for _, n := range sizes {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			var r benchResult
			for range b.N {
				r = runCleanBench(b, c, n)
			}
			b.ReportMetric(r.e2eRate(), "e2e_rows/s")
			b.ReportMetric(r.cleanRate(), "clean_rows/s")
			b.ReportMetric(r.baseRate(), "baseline_rows/s")
			b.ReportMetric(float64(max(r.PushRSS, r.CleanRSS))/(1<<20), "peak_MiB")
			b.Logf("%d records (%d MB): push %.1f s, clean %.1f s → end to end %.0f rows/s, cleaning alone %.0f rows/s; "+
				"baseline %.0f rows/s (%d rows in %.1f s); e2e/baseline %.3f; peak RSS push %d MiB, clean %d MiB, broker %d MiB; "+
				"CPU push %.1f s, clean %.1f s, broker %.1f s",
				r.Records, r.Bytes>>20, r.PushSeconds, r.CleanSeconds, r.e2eRate(), r.cleanRate(), r.baseRate(), r.Baseline,
				r.BaselineSeconds, r.e2eRate()/r.baseRate(), r.PushRSS>>20, r.CleanRSS>>20, r.BrokerRSS>>20, r.PushCPU, r.CleanCPU, r.BrokerCPU)
			results = append(results, r)
		})
	}
	if *flagReport != "" && len(results) > 0 {
		if err := os.WriteFile(*flagReport, []byte(markdown(results)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// markdown renders results as a table, one row per size.
func markdown(rs []benchResult) string {
	mib := func(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
	var b strings.Builder
	b.WriteString("| person records | input | push | clean | end to end | cleaning alone | baseline (clickhouse-client) | e2e / baseline | clean / baseline | CPU per record: push, clean, broker | peak RSS: push, clean | peak RSS: broker, clickhouse-client |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		perRec := func(s float64) string { return fmt.Sprintf("%.1f µs", s*1e6/float64(r.Records)) }
		fmt.Fprintf(&b, "| %d | %d MB | %.1f s | %.1f s | **%.0f rows/s** | %.0f rows/s | %.0f rows/s (%d rows, %.1f s) | %.3f | %.3f | %s, %s, %s | %s, %s | %s, %s |\n",
			r.Records, r.Bytes/1e6, r.PushSeconds, r.CleanSeconds, r.e2eRate(), r.cleanRate(), r.baseRate(), r.Baseline, r.BaselineSeconds,
			r.e2eRate()/r.baseRate(), r.cleanRate()/r.baseRate(), perRec(r.PushCPU), perRec(r.CleanCPU), perRec(r.BrokerCPU),
			mib(r.PushRSS), mib(r.CleanRSS), mib(r.BrokerRSS), mib(r.BaselineRSS))
	}
	b.WriteString(cpuMarkdown(rs))
	return b.String()
}

// benchInput is one person file of the city.
type benchInput struct {
	Source string
	Path   string
	Rows   int
}

// benchCity generates (or finds in -cleaning.dir) a city with at least records person records:
// the community office's and the police's person files, at the default defect and dirt rates.
func benchCity(b *testing.B, records int) []benchInput {
	b.Helper()
	cfg := sim.DefaultConfig()
	cfg.AsOf, cfg.Seed = "2026-03-05", 1
	// About 1.0 person records per person (0.92 community, 0.08 police only, duplicates).
	cfg.Scale = max(1, int(float64(sim.CityPopulation[cfg.CityCode[:4]])/(float64(records)*1.05)))
	cfg.Dir = *flagDir
	if cfg.Dir == "" {
		cfg.Dir = b.TempDir()
	} else {
		cfg.Dir = filepath.Join(cfg.Dir, fmt.Sprintf("%s-1in%d-seed%d", cfg.CityCode, cfg.Scale, cfg.Seed))
	}
	m, err := readManifest(cfg.Dir)
	if err != nil || m.Scale != cfg.Scale || m.Seed != cfg.Seed || m.AsOf != cfg.AsOf || m.DefectRate != cfg.DefectRate || m.DirtyRate != cfg.DirtyRate {
		start := time.Now()
		sum, err := sim.Run(context.Background(), cfg, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		m = sum.Manifest
		b.Logf("generated %d people, %d rows in %s (%s)", m.People, m.Rows, time.Since(start).Round(time.Second), cfg.Dir)
	}
	var out []benchInput
	for _, s := range m.Sources {
		for _, f := range s.Files {
			if f.Dataset == sim.DatasetPerson {
				out = append(out, benchInput{Source: f.Source, Path: filepath.Join(cfg.Dir, f.Path), Rows: f.Rows})
			}
		}
	}
	return out
}

func readManifest(dir string) (sim.Manifest, error) {
	var m sim.Manifest
	b, err := os.ReadFile(filepath.Join(dir, sim.ManifestFile))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	return m, err
}

// cut writes the first n data rows of the person files, in proportion to their sizes, to
// copies in dir.
func cut(b *testing.B, in []benchInput, n int, dir string) []benchInput {
	b.Helper()
	total := 0
	for _, f := range in {
		total += f.Rows
	}
	if total < n {
		b.Fatalf("the city has %d person records, want %d", total, n)
	}
	var out []benchInput
	left := n
	for i, f := range in {
		k := int(math.Round(float64(n) * float64(f.Rows) / float64(total)))
		if i == len(in)-1 {
			k = left
		}
		k = min(k, f.Rows, left)
		left -= k
		path := filepath.Join(dir, f.Source+"-person.csv")
		copyLines(b, f.Path, path, k+1) // the header and k rows
		out = append(out, benchInput{Source: f.Source, Path: path, Rows: k})
	}
	return out
}

// copyLines copies the first n lines of src to dst. The files hold no line breaks inside values,
// and GBK never uses the byte 0x0A inside a character.
func copyLines(b *testing.B, src, dst string, n int) {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	r, w := bufio.NewReaderSize(in, 1<<20), bufio.NewWriterSize(out, 1<<20)
	for i := 0; i < n; i++ {
		line, err := r.ReadSlice('\n')
		if err != nil {
			b.Fatalf("%s: line %d: %v", src, i+1, err)
		}
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// runCleanBench is one measured run at size n.
func runCleanBench(b *testing.B, city []benchInput, n int) benchResult {
	b.StopTimer()
	r := benchResult{Records: n}
	whCfg, conn := testenv.Warehouse(b)
	brk := startBroker(b)
	busCfg := brk.busConfig()
	gw := startGateway(b, busCfg, conn)
	gw.registerSimulated(b, sim.DefaultConfig().CityCode)
	pcfg := pipelines.DefaultConfig()
	if *flagRunRecs > 0 {
		pcfg.MaxRunRecords, pcfg.MaxRangeRecords = *flagRunRecs, min(pcfg.MaxRangeRecords, *flagRunRecs)
	}
	runner, err := pipelines.NewRunner(pcfg, busCfg, whCfg, stacktest.Logger(b, slog.LevelWarn), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(runner.Close)
	inputs := cut(b, city, n, b.TempDir())
	for _, in := range inputs {
		st, err := os.Stat(in.Path)
		if err != nil {
			b.Fatal(err)
		}
		r.Bytes += st.Size()
	}
	brokerPID := strconv.Itoa(brk.cmd.Process.Pid)
	brokerCPU0 := readProc(b, brokerPID).CPU
	serverPID := listenerPID(whCfg.Addr)
	r.ServerMeasured = serverPID != ""

	phase := func(name string, rss *int64, cpu, secs, serverCPU *float64, run func()) {
		debug.FreeOSMemory()
		resetPeak(b, "self")
		if *flagProfile != "" {
			f, err := os.Create(filepath.Join(*flagProfile, fmt.Sprintf("%s-%d.pprof", name, n)))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				b.Fatal(err)
			}
			defer pprof.StopCPUProfile()
		}
		cpu0, server0, t0 := selfCPU(), cpuOf(serverPID), time.Now()
		b.StartTimer()
		run()
		b.StopTimer()
		*secs, *cpu = time.Since(t0).Seconds(), (selfCPU() - cpu0).Seconds()
		*serverCPU = (cpuOf(serverPID) - server0).Seconds()
		*rss = readProc(b, "self").PeakRSS
	}
	phase("push", &r.PushRSS, &r.PushCPU, &r.PushSeconds, &r.ServerPushCPU, func() {
		for _, in := range inputs {
			gw.push(b, in.Source, sim.DatasetPerson, in.Path, "csv", in.Rows)
		}
	})
	phase("clean", &r.CleanRSS, &r.CleanCPU, &r.CleanSeconds, &r.ServerCleanCPU, func() {
		for {
			res := runOnce(b, runner)
			cr := res.Clean[sim.DatasetPerson]
			if len(cr.Ranges) == 0 {
				return
			}
			r.Written += cr.Written
			r.Quarantined += cr.Quarantined
			if *flagHeap {
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				fds, _ := os.ReadDir("/proc/self/fd")
				b.Logf("after a run of %d records: live heap %d MiB, heap from the OS %d MiB, RSS peak so far %d MiB, %d goroutines, %d open files",
					cr.Read, ms.HeapAlloc>>20, ms.HeapSys>>20, readProc(b, "self").PeakRSS>>20, runtime.NumGoroutine(), len(fds))
			}
		}
	})
	if *flagHeap && *flagProfile != "" {
		runtime.GC()
		f, err := os.Create(filepath.Join(*flagProfile, fmt.Sprintf("heap-%d.pprof", n)))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	bp := readProc(b, brokerPID)
	r.BrokerRSS, r.BrokerCPU = bp.PeakRSS, (bp.CPU - brokerCPU0).Seconds()
	if got := int64(n); r.Written+r.Quarantined != got {
		b.Fatalf("cleaning wrote %d rows and refused %d records of %d", r.Written, r.Quarantined, got)
	}
	r.FinalRows = int64(count(b, conn, `SELECT count() FROM dwd_person FINAL`))
	baseline(b, whCfg, conn, serverPID, &r)
	return r
}

// cpuMarkdown renders where the CPU of each size went, ClickHouse server included, and the rate
// that CPU allows on this machine's cores: the rate end to end could reach if the phases overlapped
// perfectly and nothing else ran.
func cpuMarkdown(rs []benchResult) string {
	var b strings.Builder
	b.WriteString("\nCPU per record, all processes (the ClickHouse server's CPU read from /proc while each phase ran; its merges after a phase are not counted):\n\n")
	b.WriteString("| person records | push: ours + ClickHouse server | clean: ours + ClickHouse server | end to end, all (broker included) | rate that CPU allows on " + strconv.Itoa(runtime.NumCPU()) + " cores | baseline: client + server | baseline rate that CPU allows |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		if !r.ServerMeasured {
			fmt.Fprintf(&b, "| %d | ClickHouse server not on this machine: not measured | | | | | |\n", r.Records)
			continue
		}
		us := func(s float64) float64 { return s * 1e6 / float64(r.Records) }
		push := us(r.PushCPU) + us(r.ServerPushCPU)
		clean := us(r.CleanCPU) + us(r.ServerCleanCPU)
		all := push + clean + us(r.BrokerCPU)
		base := (r.BaselineCPU + r.ServerBaselineCPU) * 1e6 / float64(max(r.Baseline, 1))
		fmt.Fprintf(&b, "| %d | %.1f + %.1f µs | %.1f + %.1f µs | %.1f µs | %.0f rows/s | %.1f + %.1f µs | %.0f rows/s |\n",
			r.Records, us(r.PushCPU), us(r.ServerPushCPU), us(r.CleanCPU), us(r.ServerCleanCPU), all,
			float64(runtime.NumCPU())*1e6/all,
			r.BaselineCPU*1e6/float64(max(r.Baseline, 1)), r.ServerBaselineCPU*1e6/float64(max(r.Baseline, 1)),
			float64(runtime.NumCPU())*1e6/base)
	}
	return b.String()
}
