package community

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds"
)

// Names of the files Run writes besides the data files.
const (
	ManifestFile    = "manifest.json"
	GroundTruthFile = "ground_truth.jsonl"
	SourcesDir      = "sources" // <id>.json: the source definitions `citypulse source add` takes
)

// Manifest is manifest.json: what Run generated and where.
type Manifest struct {
	City           string                  `json:"city"`
	Scale          int                     `json:"scale"`
	Seed           int64                   `json:"seed"`
	DefectRate     float64                 `json:"defect_rate"`
	DirtyRate      float64                 `json:"dirty_rate"`
	AsOf           string                  `json:"as_of"` // YYYY-MM-DD; validate records as of noon that day, China time
	StandardDigest string                  `json:"standard_digest"`
	People         int                     `json:"people"`
	Houses         int                     `json:"houses"`
	Rows           int                     `json:"rows"`
	Sources        []ManifestSource        `json:"sources"`
	GroundTruth    string                  `json:"ground_truth"` // path relative to the directory
	Planted        map[string]map[Kind]int `json:"planted"`      // dataset → kind → count
}

// ManifestSource is one source of the manifest.
type ManifestSource struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"` // department | community
	Definition string     `json:"definition"`
	Files      []FileInfo `json:"files"`
}

// FileInfo is one generated file.
type FileInfo struct {
	Source   string `json:"source"`
	Dataset  string `json:"dataset"`
	Path     string `json:"path"` // relative to the directory
	Format   string `json:"format"`
	Encoding string `json:"encoding"`
	Rows     int    `json:"rows"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
	// GB18030Rows are rows of a GBK file holding a character GBK lacks, written in GB18030.
	GB18030Rows int `json:"gb18030_rows,omitempty"`
}

// Summary is what Run did.
type Summary struct {
	Dir      string
	Manifest Manifest
	// Pushed are the gateway's manifests of the uploaded files, in the manifest's file order.
	Pushed []feeds.Manifest
}

// progressEvery is how often Run writes a progress line.
const progressEvery = 2 * time.Second

// Run generates cfg's city as files in cfg.Dir, one per source and dataset (CSV in UTF-8 or, for
// cfg.GBKSources, GBK; JSON lines where the source sends them), the source definitions in
// sources/<id>.json, the ground truth in ground_truth.jsonl and, last, manifest.json. Rows and
// ground truth are streamed: memory does not grow with the population (see the package doc). With
// cfg.PushURL set it then uploads every file to the feeds gateway with feeds.PushFile, signed with
// the source's secret, and checks that the gateway read every row. Progress lines go to out.
func Run(ctx context.Context, cfg Config, out io.Writer) (Summary, error) {
	secrets, err := cfg.validateRun()
	if err != nil {
		return Summary{}, err
	}
	if out == nil {
		out = io.Discard
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, SourcesDir), 0o755); err != nil {
		return Summary{}, fmt.Errorf("simulate community: %w", err)
	}
	// A manifest marks a complete run: remove an old one before anything changes.
	if err := os.Remove(filepath.Join(cfg.Dir, ManifestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Summary{}, fmt.Errorf("simulate community: %w", err)
	}
	fs, err := openFiles(cfg)
	if err != nil {
		return Summary{}, err
	}
	defer fs.abort()
	g, err := newGen(cfg, fs, 0)
	if err != nil {
		return Summary{}, err
	}
	fmt.Fprintf(out, "simulate community: %s at 1:%d, %d people, as of %s, into %s\n", cfg.CityCode, cfg.Scale, g.target, g.asOf.Format(time.DateOnly), cfg.Dir)
	start, last := time.Now(), time.Now()
	progress := func(people, target int) {
		if now := time.Now(); now.Sub(last) >= progressEvery {
			last = now
			rate := float64(g.stats.Rows) / now.Sub(start).Seconds()
			fmt.Fprintf(out, "simulate community: %5.1f%%  %d/%d people  %d rows  %.0f rows/s\n",
				100*float64(people)/float64(max(target, 1)), people, target, g.stats.Rows, rate)
		}
	}
	if err := g.generate(ctx, progress); err != nil {
		return Summary{}, fmt.Errorf("simulate community: %w", err)
	}
	files, err := fs.close()
	if err != nil {
		return Summary{}, err
	}
	m := Manifest{City: cfg.CityCode, Scale: cfg.Scale, Seed: cfg.Seed, DefectRate: cfg.DefectRate, DirtyRate: cfg.DirtyRate,
		AsOf: g.asOf.Format(time.DateOnly), StandardDigest: g.std.Digest(), People: g.stats.People, Houses: g.stats.Houses,
		Rows: g.stats.Rows, GroundTruth: GroundTruthFile, Planted: g.stats.Planted}
	for _, s := range Sources() {
		def := path.Join(SourcesDir, s.ID+".json")
		if err := writeJSON(filepath.Join(cfg.Dir, def), s.Definition(cfg.CityCode)); err != nil {
			return Summary{}, err
		}
		ms := ManifestSource{ID: s.ID, Name: s.Name, Kind: s.Kind, Definition: def}
		for _, f := range files {
			if f.Source == s.ID {
				ms.Files = append(ms.Files, f)
			}
		}
		m.Sources = append(m.Sources, ms)
	}
	if err := writeJSON(filepath.Join(cfg.Dir, ManifestFile), m); err != nil {
		return Summary{}, err
	}
	fmt.Fprintf(out, "simulate community: wrote %d rows in %d files, %d defects and dirty fields in %s (%s)\n",
		m.Rows, len(files), countPlanted(m.Planted), GroundTruthFile, time.Since(start).Round(time.Millisecond))
	sum := Summary{Dir: cfg.Dir, Manifest: m}
	if cfg.PushURL == "" {
		return sum, nil
	}
	for _, f := range files {
		pm, err := feeds.PushFile(ctx, nil, cfg.PushURL, f.Source, secrets[f.Source], f.Dataset, filepath.Join(cfg.Dir, f.Path), f.Format)
		if err != nil {
			return sum, fmt.Errorf("simulate community: %w", err)
		}
		sum.Pushed = append(sum.Pushed, pm)
		fmt.Fprintf(out, "simulate community: pushed %s: batch %s, %d rows in, %d accepted, %d rejected\n",
			f.Path, pm.BatchID, pm.RowsIn, pm.RowsAccepted, pm.RowsRejected)
		if pm.RowsIn != int64(f.Rows) || pm.RowsAccepted != int64(f.Rows) {
			return sum, fmt.Errorf("simulate community: push %s: the gateway read %d rows and accepted %d of %d", f.Path, pm.RowsIn, pm.RowsAccepted, f.Rows)
		}
	}
	return sum, nil
}

func countPlanted(p map[string]map[Kind]int) int {
	n := 0
	for _, m := range p {
		for _, c := range m {
			n += c
		}
	}
	return n
}

// writeJSON writes v, indented, to path through a temporary file renamed into place.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("simulate community: %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("simulate community: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("simulate community: %w", err)
	}
	return nil
}

// fileSink streams rows to one file per source and dataset and defects to the ground truth.
type fileSink struct {
	files   []*dataFile
	byKey   map[[2]string]*dataFile
	truth   *countingFile
	truthJS *json.Encoder
}

type dataFile struct {
	info FileInfo
	f    *countingFile
	w    RowWriter
}

// countingFile is a file that counts and hashes what is written to it.
type countingFile struct {
	f *os.File
	h hash.Hash
	n int64
}

func createCounting(path string) (*countingFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("simulate community: %w", err)
	}
	return &countingFile{f: f, h: sha256.New()}, nil
}

func (c *countingFile) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

func openFiles(cfg Config) (*fileSink, error) {
	fs := &fileSink{byKey: map[[2]string]*dataFile{}}
	for _, s := range Sources() {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, s.ID), 0o755); err != nil {
			fs.abort()
			return nil, fmt.Errorf("simulate community: %w", err)
		}
		for _, d := range s.Datasets {
			info := FileInfo{Source: s.ID, Dataset: d.Dataset, Format: d.Format, Encoding: EncodingUTF8,
				Path: path.Join(s.ID, d.Dataset+"."+d.Format)}
			opt := WriteOptions{Rename: d.Rename}
			if d.Format == FormatCSV && slices.Contains(cfg.GBKSources, s.ID) {
				info.Encoding, opt.Encoding, opt.GB18030Fallback = EncodingGBK, EncodingGBK, true
			}
			cf, err := createCounting(filepath.Join(cfg.Dir, info.Path))
			if err != nil {
				fs.abort()
				return nil, err
			}
			df := &dataFile{info: info, f: cf}
			fs.files = append(fs.files, df)
			if d.Format == FormatCSV {
				df.w, err = NewCSVWriter(cf, d.Dataset, opt)
			} else {
				df.w, err = NewJSONLWriter(cf, d.Dataset, opt)
			}
			if err != nil {
				fs.abort()
				return nil, err
			}
			fs.byKey[[2]string{s.ID, d.Dataset}] = df
		}
	}
	tf, err := createCounting(filepath.Join(cfg.Dir, GroundTruthFile))
	if err != nil {
		fs.abort()
		return nil, err
	}
	fs.truth, fs.truthJS = tf, json.NewEncoder(tf)
	fs.truthJS.SetEscapeHTML(false)
	return fs, nil
}

func (fs *fileSink) write(k Key, row map[string]string) error {
	df := fs.byKey[[2]string{k.Source, k.Dataset}]
	if df == nil {
		return fmt.Errorf("simulate community: no file for %s/%s", k.Source, k.Dataset)
	}
	df.info.Rows++
	if err := df.w.Write(row); err != nil {
		return fmt.Errorf("simulate community: %s: %w", df.info.Path, err)
	}
	return nil
}

func (fs *fileSink) defect(d Defect) error {
	if err := fs.truthJS.Encode(d); err != nil {
		return fmt.Errorf("simulate community: %s: %w", GroundTruthFile, err)
	}
	return nil
}

// close flushes and closes every file and returns the data files' descriptions.
func (fs *fileSink) close() ([]FileInfo, error) {
	var out []FileInfo
	var errs []error
	for _, df := range fs.files {
		errs = append(errs, df.w.Close(), df.f.f.Close())
		df.info.Bytes, df.info.SHA256 = df.f.n, hex.EncodeToString(df.f.h.Sum(nil))
		df.info.GB18030Rows = df.w.Fallbacks()
		out = append(out, df.info)
	}
	if fs.truth != nil {
		errs = append(errs, fs.truth.f.Close())
	}
	fs.files, fs.truth = nil, nil
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("simulate community: close files: %w", err)
	}
	return out, nil
}

// abort closes whatever is still open (after an error).
func (fs *fileSink) abort() {
	for _, df := range fs.files {
		df.f.f.Close()
	}
	if fs.truth != nil {
		fs.truth.f.Close()
	}
	fs.files, fs.truth = nil, nil
}
