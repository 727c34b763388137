package standard

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite docs/data-standard.md from the standard")

func TestLoad(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"activity", "facility", "house", "opinion", "org", "person", "person_house", "space_booking", "survey"}
	if got := strings.Join(s.Datasets(), " "); got != strings.Join(want, " ") {
		t.Fatalf("datasets = %s", got)
	}
	eth, ok := s.CodeTable("ethnicity")
	if !ok || len(eth.Codes) != 58 {
		t.Fatalf("ethnicity table: %v", eth)
	}
	for in, want := range map[string]string{"汉族": "01", "汉": "01", "HA": "01", "han": "01", "56": "56", "基诺": "56"} {
		if got, ok := eth.Lookup(in); !ok || got != want {
			t.Errorf("ethnicity %q = %q, want %q", in, got, want)
		}
	}
	for _, name := range s.Datasets() {
		d, _ := s.Dataset(name)
		for _, f := range d.Fields {
			if f.Label == "" || f.Sensitivity == "" {
				t.Errorf("%s.%s: no label or sensitivity", name, f.Name)
			}
		}
	}
	again, err := Load()
	if err != nil || again.Digest() != s.Digest() || len(s.Digest()) != 16 {
		t.Fatalf("digest %q vs %q, %v", s.Digest(), again.Digest(), err)
	}
	if _, ok := s.Dataset("nope"); ok {
		t.Fatal("unknown dataset found")
	}
}

// TestBadStandards loads each testdata/*.bad.yaml in place of one file of the embedded standard
// (datasets/<name>.yaml, or codetables/<name>.yaml when the file name starts with "codetable_") and
// expects the error its first line announces: "# error: <text>".
func TestBadStandards(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want, ok := strings.CutPrefix(first, "# error: ")
			if !ok {
				t.Fatalf("first line must be \"# error: <expected text>\", got %q", first)
			}
			base := strings.TrimSuffix(filepath.Base(file), ".bad.yaml")
			target := "datasets/" + base + ".yaml"
			if name, ok := strings.CutPrefix(base, "codetable_"); ok {
				target = "codetables/" + name + ".yaml"
			}
			fsys := embeddedCopy(t)
			fsys[target] = &fstest.MapFile{Data: b}
			_, err = LoadFS(fsys)
			if err == nil {
				t.Fatalf("loaded; want error %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
			if !strings.Contains(err.Error(), target) {
				t.Fatalf("error does not name the file %s: %v", target, err)
			}
		})
	}
}

func embeddedCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(embedded, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDataStandardDoc fails when docs/data-standard.md differs from what the standard generates:
// the documentation cannot drift. Regenerate with `go generate ./warehouse/standard`.
func TestDataStandardDoc(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	const path = "../../docs/data-standard.md"
	got := s.Markdown()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go generate ./warehouse/standard)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s is out of date: run go generate ./warehouse/standard", path)
	}
	for _, f := range formatDocs {
		if !formats[f.name] && !types[f.name] {
			t.Errorf("formatDocs has unknown %q", f.name)
		}
	}
	if len(formatDocs) != len(formats)+len(types) {
		t.Errorf("formatDocs covers %d of %d formats and types", len(formatDocs), len(formats)+len(types))
	}
}
