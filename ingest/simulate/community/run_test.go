package community

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/internal/config"
)

func runConfig(t *testing.T) Config {
	cfg := testConfig()
	cfg.Dir = t.TempDir()
	cfg.DefectRate, cfg.DirtyRate = 0.05, 0.05
	return cfg
}

func readManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// readDataFile reads a generated file back into rows keyed by standard field names.
func readDataFile(t *testing.T, dir string, f FileInfo) []map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, f.Path))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(raw)) != f.Bytes {
		t.Fatalf("%s: %d bytes, sha256 %x; manifest says %d, %s", f.Path, len(raw), sum, f.Bytes, f.SHA256)
	}
	back := map[string]string{}
	for field, col := range sourceSpec(f.Source).Dataset(f.Dataset).Rename {
		back[col] = field
	}
	name := func(col string) string {
		if fl, ok := back[col]; ok {
			return fl
		}
		return col
	}
	var rows []map[string]string
	switch f.Format {
	case FormatCSV:
		var r io.Reader = strings.NewReader(string(raw))
		if f.Encoding == EncodingGBK {
			if utf8.Valid(raw) {
				t.Fatalf("%s: GBK file is valid UTF-8", f.Path)
			}
			r = transform.NewReader(r, simplifiedchinese.GB18030.NewDecoder())
		}
		recs, err := csv.NewReader(r).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		for _, rec := range recs[1:] {
			row := map[string]string{}
			for i, col := range recs[0] {
				row[name(col)] = rec[i]
			}
			rows = append(rows, row)
		}
	case FormatJSONL:
		sc := bufio.NewScanner(strings.NewReader(string(raw)))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var obj map[string]string
			if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			row := map[string]string{}
			for col, v := range obj {
				row[name(col)] = v
			}
			rows = append(rows, row)
		}
	default:
		t.Fatalf("%s: format %s", f.Path, f.Format)
	}
	if len(rows) != f.Rows {
		t.Fatalf("%s: %d rows, manifest says %d", f.Path, len(rows), f.Rows)
	}
	return rows
}

// TestRunMatchesGenerate: the files, the ground truth and the manifest of Run hold exactly what
// Generate makes in memory.
func TestRunMatchesGenerate(t *testing.T) {
	cfg := runConfig(t)
	var progress strings.Builder
	sum, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatal(err)
	}
	res := generate(t, cfg)
	m := readManifest(t, cfg.Dir)
	if !reflect.DeepEqual(m, sum.Manifest) {
		t.Errorf("manifest.json differs from the summary's manifest")
	}
	if m.People != res.Stats.People || m.Rows != res.Stats.Rows || m.AsOf != "2026-03-05" || m.StandardDigest == "" {
		t.Errorf("manifest %+v; generated %+v", m, res.Stats)
	}
	if !strings.Contains(progress.String(), "wrote") {
		t.Errorf("progress %q", progress.String())
	}
	files := 0
	for _, src := range m.Sources {
		spec := sourceSpec(src.ID)
		if spec == nil || src.Kind != spec.Kind || (src.Kind != feeds.KindDepartment && src.Kind != feeds.KindCommunity) {
			t.Fatalf("source %+v", src)
		}
		def := readDefinition(t, filepath.Join(cfg.Dir, src.Definition))
		for _, f := range src.Files {
			files++
			rows := readDataFile(t, cfg.Dir, f)
			b := res.Batch(f.Source, f.Dataset)
			if b == nil || !reflect.DeepEqual(rows, b.Rows) {
				t.Errorf("%s: rows differ from Generate's", f.Path)
			}
			if _, ok := def.Datasets[f.Dataset]; !ok {
				t.Errorf("%s: source %s may not send dataset %s", f.Path, src.ID, f.Dataset)
			}
			want := EncodingUTF8
			if f.Source == SourcePolice || f.Source == SourceMarket {
				want = EncodingGBK
			}
			if f.Encoding != want {
				t.Errorf("%s: encoding %s, want %s", f.Path, f.Encoding, want)
			}
		}
	}
	if files != len(res.Batches) {
		t.Errorf("%d files, %d batches", files, len(res.Batches))
	}
	tf, err := os.Open(filepath.Join(cfg.Dir, m.GroundTruth))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	truth, err := ReadGroundTruth(tf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(truth, res.Defects) {
		t.Errorf("ground truth: %d defects, Generate planted %d", len(truth), len(res.Defects))
	}
}

// readDefinition reads a source definition as `citypulse source add` does: unknown keys are errors.
func readDefinition(t *testing.T, path string) feeds.Source {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var s feeds.Source
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func TestDefinitionsMapEveryColumn(t *testing.T) {
	for _, s := range Sources() {
		def := s.Definition("510100000000")
		for _, d := range s.Datasets {
			dc := def.Datasets[d.Dataset]
			if d.Rename == nil {
				if len(dc.Mapping) != 0 {
					t.Errorf("%s/%s: mapping %v for standard names", s.ID, d.Dataset, dc.Mapping)
				}
				continue
			}
			for _, f := range Fields(d.Dataset) {
				col, ok := d.Rename[f]
				if !ok || dc.Mapping[col] != f {
					t.Errorf("%s/%s: field %s has no column mapped to it", s.ID, d.Dataset, f)
				}
			}
		}
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"no dir", func(c *Config) { c.Dir = " " }, "community-dir"},
		{"gbk source", func(c *Config) { c.GBKSources = []string{"tax"} }, "community-gbk-sources"},
		{"secret item", func(c *Config) { c.PushSecrets = []string{"police"} }, "community-push-secrets"},
		{"secret hex", func(c *Config) { c.PushSecrets = []string{"police=zz"} }, "not hex"},
		{"push url", func(c *Config) { c.PushURL = "ftp://x" }, "community-push-url"},
		{"missing secret", func(c *Config) { c.PushURL, c.PushSecrets = "http://127.0.0.1:1", []string{"police=00ff"} }, "no secret for source community"},
		{"generator", func(c *Config) { c.Scale = 0 }, "community-scale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := runConfig(t)
			tc.cfg(&cfg)
			_, err := Run(context.Background(), cfg, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	cfg := runConfig(t)
	if err := os.WriteFile(filepath.Join(cfg.Dir, ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, cfg, io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, ManifestFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a cancelled run left a manifest (%v)", err)
	}
}

func TestGroundTruthRoundTrip(t *testing.T) {
	res := generate(t, runConfig(t))
	var b strings.Builder
	if err := WriteGroundTruth(&b, res.Defects); err != nil {
		t.Fatal(err)
	}
	got, err := ReadGroundTruth(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, res.Defects) {
		t.Fatal("ground truth changed in a round trip")
	}
	for _, bad := range []string{`{"source":"police"}`, `{"source":"a","dataset":"b","row":1,"kind":"k","action":"a","extra":1}`, `not json`} {
		if _, err := ReadGroundTruth(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestConfigBinds(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("simulate community", flag.ContinueOnError)
	if err := config.Bind(fs, &cfg); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"-community-scale", "500", "-community-push-secrets", "police=00ff,community=0a0b", "-community-gbk-sources", "police"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Scale != 500 || len(cfg.PushSecrets) != 2 || !reflect.DeepEqual(cfg.GBKSources, []string{"police"}) {
		t.Fatalf("bound config %+v", cfg)
	}
}
