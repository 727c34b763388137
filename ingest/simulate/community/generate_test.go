package community

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/warehouse/standard"
	"github.com/citypulse/citypulse/warehouse/standard/validate"
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
				t.Fatalf("%s#%d has %d fields, want %d", b.Source, i, len(row), len(fields[b.Dataset]))
			}
			_, errs := d.ValidateRecordAt(row, res.AsOf)
			for _, e := range errs {
				found[fieldKey{Key{b.Source, b.Dataset, i}, e.Field}] = e
			}
		}
	}
	return found
}

func TestPlantedDefectsFoundByValidators(t *testing.T) {
	s := loadStandard(t)
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
	}{
		{"chengdu default rates", func(*Config) {}},
		{"chengdu 10% defects", func(c *Config) { c.DefectRate, c.DirtyRate, c.Seed = 0.10, 0.10, 7 }},
		{"xuchang", func(c *Config) { c.CityCode, c.Scale, c.DefectRate, c.Seed = "411000000000", 2000, 0.05, 3 }},
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
				if d.Kind.Detectable() {
					want[fieldKey{d.Key, d.Field}] = d
				}
				if !d.Kind.IsDefect() || !d.Kind.Detectable() { // dirty, duplicate, stale: valid records
					if e, ok := found[fieldKey{d.Key, d.Field}]; ok {
						t.Errorf("%s %s (%s, %s): validator reports %s", d.Key, d.Field, d.Kind, d.Detail, e)
					}
				}
			}
			hits, shown := 0, 0
			for k, e := range found {
				d, ok := want[k]
				if ok && e.Code == d.Kind.ValidatorCode() {
					hits++
				} else if shown++; shown <= 10 {
					t.Logf("false positive %s %s: %s (%s) value %q", k.key, k.field, e, e.Code, res.Record(k.key)[k.field])
				}
			}
			for k, d := range want {
				if _, ok := found[k]; !ok {
					if shown++; shown <= 20 {
						t.Logf("missed %s %s %s (%s) value %q", k.key, k.field, d.Kind, d.Detail, res.Record(k.key)[k.field])
					}
				}
			}
			precision := float64(hits) / float64(max(1, len(found)))
			recall := float64(hits) / float64(max(1, len(want)))
			t.Logf("people %d houses %d; planted %v; detectable %d, validator errors %d; precision %.4f recall %.4f",
				res.People, res.Houses, perKind, len(want), len(found), precision, recall)
			if len(want) == 0 || precision < 0.99 || recall < 0.99 {
				t.Errorf("precision %.4f recall %.4f over %d planted, %d found: want both ≥ 0.99", precision, recall, len(want), len(found))
			}
			for _, k := range []Kind{KindDuplicatePerson, KindStaleAddress, KindDirty} {
				if perKind[k] == 0 && cfg.DefectRate >= 0.05 {
					t.Errorf("no %s planted", k)
				}
			}
		})
	}
}

func TestCleanRecordsHaveNoErrors(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate = 0, 0.5
	res := generate(t, cfg)
	for k, e := range validateAll(t, loadStandard(t), res) {
		t.Errorf("%s: %s (%s) value %q", k.key, e, e.Code, res.Record(k.key)[k.field])
	}
	for _, d := range res.Defects {
		if d.Kind.IsDefect() {
			t.Errorf("defect %+v planted at rate 0", d)
		}
	}
}

func TestResidentsAreConsistent(t *testing.T) {
	cfg := testConfig()
	cfg.DefectRate, cfg.DirtyRate = 0, 0
	res := generate(t, cfg)
	asOf := res.AsOf
	seen := map[string]bool{}
	houses := map[string]string{} // address → community of the house
	for _, row := range res.Batch(SourceCommunity, DatasetHouse).Rows {
		if _, dup := houses[row["region_code"]+row["address"]]; dup {
			t.Errorf("house %s %s twice", row["region_code"], row["address"])
		}
		houses[row["region_code"]+row["address"]] = row["region_code"]
	}
	ages := make([]int, 0, res.People)
	for _, src := range []string{SourceCommunity, SourcePolice} {
		for _, row := range res.Batch(src, DatasetPerson).Rows {
			id, err := validate.ParseResidentID(row["id_card"], asOf)
			if err != nil {
				t.Fatalf("%s: %v", row["id_card"], err)
			}
			if seen[id.Number] {
				t.Errorf("ID %s given twice", id.Number)
			}
			seen[id.Number] = true
			if row["residence_status"] == "1" && id.Region != row["region_code"][:6] {
				t.Errorf("registered resident %s lives in %s", id.Number, row["region_code"])
			}
			if _, ok := houses[row["region_code"]+row["address"]]; !ok {
				t.Errorf("%s lives at %s %s, which is no house", id.Number, row["region_code"], row["address"])
			}
			if n := []rune(row["name"]); len(n) < 2 || len(n) > 3 {
				t.Errorf("name %q", row["name"])
			}
			ages = append(ages, asOf.Year()-atoiT(t, id.BirthDate[:4]))
		}
	}
	if len(seen) != res.People {
		t.Errorf("%d distinct IDs, %d people", len(seen), res.People)
	}
	children, old := 0, 0
	for _, a := range ages {
		if a < 18 {
			children++
		}
		if a >= 60 {
			old++
		}
	}
	if c, o := float64(children)/float64(len(ages)), float64(old)/float64(len(ages)); c < 0.08 || c > 0.35 || o < 0.08 || o > 0.35 {
		t.Errorf("under 18: %.2f, 60 and over: %.2f; want both 0.08..0.35", c, o)
	}
}

func atoiT(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeterministic(t *testing.T) {
	csvOf := func(cfg Config) []byte {
		res := generate(t, cfg)
		var buf bytes.Buffer
		for i := range res.Batches {
			if err := WriteCSV(&buf, &res.Batches[i], WriteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&buf, "%+v", res.Defects)
		return buf.Bytes()
	}
	cfg := testConfig()
	a, b := csvOf(cfg), csvOf(cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("the same config gave different bytes")
	}
	cfg.Seed++
	if bytes.Equal(a, csvOf(cfg)) {
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
		{"too many", func(c *Config) { c.Scale = 1 }, "at most"},
		{"defect rate", func(c *Config) { c.DefectRate = 1.5 }, "community-defect-rate"},
		{"dirty rate", func(c *Config) { c.DirtyRate = -0.1 }, "community-dirty-rate"},
		{"as-of", func(c *Config) { c.AsOf = "05/03/2026" }, "community-as-of"},
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
