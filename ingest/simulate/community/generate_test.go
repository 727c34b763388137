package community

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/warehouse/standard"
)

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.AsOf = "2026-03-05"
	return cfg
}

func loadStandard(t *testing.T) *standard.Standard {
	t.Helper()
	s, err := standard.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func generate(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestFieldsMatchStandard(t *testing.T) {
	s := loadStandard(t)
	for _, ds := range Datasets() {
		d, ok := s.Dataset(ds)
		if !ok {
			t.Fatalf("dataset %s is not in the standard", ds)
		}
		var want []string
		for _, f := range d.Fields {
			want = append(want, f.Name)
		}
		if got := Fields(ds); !reflect.DeepEqual(got, want) {
			t.Errorf("Fields(%s) = %v, standard has %v", ds, got, want)
		}
	}
	if got, want := len(s.Datasets()), len(Datasets()); got != want {
		t.Errorf("the standard has %d datasets, the generator makes %d", got, want)
	}
}

type fieldKey struct {
	key   Key
	field string
}

// validateAll runs every record through the standard and returns the field errors by record and
// field (unknown fields and every other code included).
func validateAll(t *testing.T, s *standard.Standard, res *Result) map[fieldKey]standard.FieldError {
	t.Helper()
	found := map[fieldKey]standard.FieldError{}
	for _, b := range res.Batches {
		d, ok := s.Dataset(b.Dataset)
		if !ok {
			t.Fatalf("dataset %s is not in the standard", b.Dataset)
		}
		for i, row := range b.Rows {
			if len(row) != len(fields[b.Dataset]) {
				t.Fatalf("%s/%s#%d has %d fields, want %d", b.Source, b.Dataset, i+1, len(row), len(fields[b.Dataset]))
			}
			_, errs := d.ValidateRecordAt(row, res.AsOf)
			for _, e := range errs {
				found[fieldKey{Key{b.Source, b.Dataset, i + 1}, e.Field}] = e
			}
		}
	}
	return found
}

// score is the validators' precision and recall on the planted quarantine defects of one dataset.
type score struct{ planted, found, hits int }

func (s score) precision() float64 { return float64(s.hits) / float64(max(1, s.found)) }
func (s score) recall() float64    { return float64(s.hits) / float64(max(1, s.planted)) }

func TestPlantedDefectsFoundByValidators(t *testing.T) {
	s := loadStandard(t)
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
	}{
		{"chengdu 2%", func(c *Config) { c.Scale, c.DefectRate = 2000, 0.02 }},
		{"chengdu 5%", func(c *Config) { c.Scale, c.DefectRate, c.DirtyRate, c.Seed = 2000, 0.05, 0.05, 5 }},
		{"chengdu 10%", func(c *Config) { c.Scale, c.DefectRate, c.DirtyRate, c.Seed = 2000, 0.10, 0.10, 7 }},
		{"xuchang 5%", func(c *Config) { c.CityCode, c.Scale, c.DefectRate, c.Seed = "411000000000", 500, 0.05, 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.cfg(&cfg)
			res := generate(t, cfg)
			found := validateAll(t, s, res)
			want := map[fieldKey]Defect{}
			perKind := map[Kind]int{}
			for _, d := range res.Defects {
				perKind[d.Kind]++
				if d.Action == ActionQuarantine {
					if d.Code == "" {
						t.Errorf("%s: quarantine without a code", d)
					}
					want[fieldKey{d.Key, d.Field}] = d
				}
			}
			scores := map[string]*score{}
			for _, ds := range Datasets() {
				scores[ds] = &score{}
			}
			shown := 0
			for k, d := range want {
				scores[k.key.Dataset].planted++
				if _, ok := found[k]; !ok {
					if shown++; shown <= 20 {
						t.Logf("missed %s value %q", d, res.Record(k.key)[k.field])
					}
				}
			}
			for k, e := range found {
				sc := scores[k.key.Dataset]
				sc.found++
				d, ok := want[k]
				if ok && e.Code == d.Code && e.Detail == d.Detail {
					sc.hits++
				} else if shown++; shown <= 20 {
					t.Logf("false positive %s %s: %s (code %s, detail %s; planted %v) value %q", k.key, k.field, e, e.Code, e.Detail, d, res.Record(k.key)[k.field])
				}
			}
			total := score{}
			for _, ds := range Datasets() {
				sc := scores[ds]
				total.planted, total.found, total.hits = total.planted+sc.planted, total.found+sc.found, total.hits+sc.hits
				t.Logf("%-13s planted %4d found %4d precision %.4f recall %.4f", ds, sc.planted, sc.found, sc.precision(), sc.recall())
				if sc.precision() < 0.99 || sc.recall() < 0.99 {
					t.Errorf("%s: precision %.4f recall %.4f over %d planted, %d found: want both ≥ 0.99", ds, sc.precision(), sc.recall(), sc.planted, sc.found)
				}
				if sc.planted == 0 {
					t.Errorf("%s: no defect planted", ds)
				}
			}
			t.Logf("people %d houses %d rows %d; planted %v; precision %.4f recall %.4f",
				res.Stats.People, res.Stats.Houses, res.Stats.Rows, perKind, total.precision(), total.recall())
			if cfg.DefectRate >= 0.05 {
				for _, k := range append(kindOrder, KindDirty) {
					if perKind[k] == 0 {
						t.Errorf("no %s planted", k)
					}
				}
			}
		})
	}
}

func TestPlantedShareMatchesRate(t *testing.T) {
	for _, rate := range []float64{0.02, 0.10} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			cfg := testConfig()
			cfg.DefectRate, cfg.Scale = rate, 2000
			res := generate(t, cfg)
			defects := 0
			for _, d := range res.Defects {
				if d.Kind.IsDefect() && d.Kind != KindDuplicatePerson {
					defects++
				}
			}
			// Duplicates add a row rather than spoil one; the share is of the other rows.
			share := float64(defects) / float64(res.Stats.Rows)
			if share < rate*0.85 || share > rate*1.15 {
				t.Errorf("%d defects in %d rows: share %.4f, want about %.2f", defects, res.Stats.Rows, share, rate)
			}
		})
	}
}

func TestCleanRecordsHaveNoErrors(t *testing.T) {
	for _, city := range []string{"510100000000", "411000000000"} {
		t.Run(city, func(t *testing.T) {
			cfg := testConfig()
			cfg.CityCode, cfg.DefectRate, cfg.DirtyRate = city, 0, 0.5
			if city == "411000000000" {
				cfg.Scale = 2000
			}
			res := generate(t, cfg)
			n := 0
			for k, e := range validateAll(t, loadStandard(t), res) {
				if n++; n <= 20 {
					t.Errorf("%s: %s (%s) value %q", k.key, e, e.Code, res.Record(k.key)[k.field])
				}
			}
			for _, d := range res.Defects {
				if d.Kind.IsDefect() {
					t.Errorf("defect %s planted at rate 0", d)
				}
				if d.Action != ActionFixFlag || d.Flag != FlagDirtyFixed {
					t.Errorf("dirty field %s: action %s flag %s", d, d.Action, d.Flag)
				}
			}
			for _, b := range res.Batches {
				if len(b.Rows) == 0 {
					t.Errorf("%s/%s: no rows", b.Source, b.Dataset)
				}
			}
		})
	}
}

func TestDirtyValuesAreFixed(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate = 0, 1
	res := generate(t, cfg)
	s := loadStandard(t)
	// A dirty value must be valid, and differ from what it normalises to.
	for _, d := range res.Defects {
		ds, _ := s.Dataset(d.Dataset)
		row := res.Record(d.Key)
		norm, errs := ds.ValidateRecordAt(row, res.AsOf)
		if len(errs) > 0 {
			t.Fatalf("%s: %v", d, errs)
		}
		if got := fmt.Sprint(norm[d.Field]); got == row[d.Field] {
			t.Errorf("%s: raw %q normalises to itself", d, row[d.Field])
		}
	}
	if len(res.Defects) < res.Stats.Rows*9/10 {
		t.Errorf("%d dirty fields in %d rows at rate 1", len(res.Defects), res.Stats.Rows)
	}
}

func TestUnknownCodesAreUnknown(t *testing.T) {
	s := loadStandard(t)
	for table, vals := range unknownCodes {
		ct, ok := s.CodeTable(table)
		if !ok {
			t.Errorf("code table %s is not in the standard", table)
			continue
		}
		for _, v := range vals {
			if c, ok := ct.Lookup(v); ok {
				t.Errorf("%s: %q is code %s", table, v, c)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	bytesOf := func(cfg Config) []byte {
		res := generate(t, cfg)
		var buf bytes.Buffer
		for i := range res.Batches {
			if err := WriteCSV(&buf, &res.Batches[i], WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteGroundTruth(&buf, res.Defects); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	cfg := testConfig()
	a, b := bytesOf(cfg), bytesOf(cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("the same config gave different bytes")
	}
	cfg.Seed++
	if bytes.Equal(a, bytesOf(cfg)) {
		t.Fatal("another seed gave the same bytes")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"short city", func(c *Config) { c.CityCode = "5101" }, "community-city"},
		{"unknown city", func(c *Config) { c.CityCode = "110100000000" }, "no population"},
		{"scale", func(c *Config) { c.Scale = 0 }, "community-scale"},
		{"too many in memory", func(c *Config) { c.Scale = 10 }, "at most"},
		{"defect rate", func(c *Config) { c.DefectRate = 1.5 }, "community-defect-rate"},
		{"dirty rate", func(c *Config) { c.DirtyRate = -0.1 }, "community-dirty-rate"},
		{"as-of", func(c *Config) { c.AsOf = "05/03/2026" }, "community-as-of"},
		{"as-of year", func(c *Config) { c.AsOf = "1970-01-01" }, "community-as-of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.cfg(&cfg)
			_, err := Generate(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		dataset string
		want    []Kind
	}{
		{DatasetPerson, []Kind{KindIDChecksum, KindIDBirthDate, KindMobileFormat, KindMissingRequired, KindBadDate, KindUnknownCode, KindUnknownRegion, KindDuplicatePerson, KindStaleAddress}},
		{DatasetOrg, []Kind{KindUSCCCheck, KindMobileFormat, KindMissingRequired, KindBadDate, KindUnknownCode, KindUnknownRegion}},
		{DatasetActivity, []Kind{KindMissingRequired, KindBadDate, KindUnknownCode, KindUnknownRegion}},
		{"cats", nil},
	} {
		if got := Kinds(tc.dataset); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Kinds(%s) = %v, want %v", tc.dataset, got, tc.want)
		}
	}
}
