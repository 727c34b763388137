package standard

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/warehouse/standard/validate"
)

// validateRecordRef is ValidateRecordAt as it was before the positional Row: one map per record,
// derived fields found by name. It is the reference FuzzValidateRow holds Validate to.
func (d *Dataset) validateRecordRef(rec map[string]string, asOf time.Time) (map[string]any, []FieldError) {
	out := make(map[string]any, len(d.Fields))
	var errs []FieldError
	var ids map[string]validate.ResidentID
	for _, f := range d.Fields {
		raw, ok := rec[f.Name]
		if !ok || raw == "" {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Code: CodeRequired, Reason: "missing"})
			}
			continue
		}
		var pid validate.ResidentID
		val, isID, fe := f.value(raw, d, asOf, &pid)
		if fe != nil {
			errs = append(errs, *fe)
			continue
		}
		v := val.Any()
		if v == nil {
			if f.Required {
				errs = append(errs, FieldError{Field: f.Name, Code: CodeRequired, Reason: "empty after cleaning"})
			}
			continue
		}
		out[f.Name] = v
		if isID {
			if ids == nil {
				ids = make(map[string]validate.ResidentID, 1)
			}
			ids[f.Name] = pid
		}
	}
	for _, f := range d.derived {
		src, part, _ := strings.Cut(f.DerivedFrom, ".")
		id, ok := ids[src]
		if !ok {
			continue
		}
		want := id.BirthDate
		if part == "gender" {
			want = id.Gender
		}
		got, given := out[f.Name]
		switch {
		case !given:
			if _, failed := rec[f.Name]; failed && hasError(errs, f.Name) {
				continue
			}
			out[f.Name] = want
		case got != want:
			errs = append(errs, FieldError{Field: f.Name, Code: CodeInconsistent,
				Reason: fmt.Sprintf("%v contradicts %s (%s)", got, src, want)})
			delete(out, f.Name)
		}
	}
	var names []string
	for k := range rec {
		if _, ok := d.byName[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		errs = append(errs, FieldError{Field: k, Code: CodeUnknownField, Reason: "not a field of " + d.Name})
	}
	if len(errs) > 1 {
		sort.SliceStable(errs, func(i, j int) bool { return d.order(errs[i].Field) < d.order(errs[j].Field) })
	}
	return out, errs
}

// fuzzRecord reads a record from lines "key=value": a key that is a number names the dataset's
// field of that position (mod the field count), any other key is used as the name itself.
func fuzzRecord(d *Dataset, data string) map[string]string {
	rec := map[string]string{}
	for line := range strings.SplitSeq(data, "\n") {
		k, v, _ := strings.Cut(line, "=")
		if n, err := strconv.Atoi(k); err == nil {
			k = d.Fields[(n%len(d.Fields)+len(d.Fields))%len(d.Fields)].Name
		}
		rec[k] = v
	}
	return rec
}

// FuzzValidateRow holds the positional Validate (through ValidateRecordAt, and through a Row
// reused across records as the cleaning pipeline uses it) to the map implementation.
func FuzzValidateRow(f *testing.F) {
	s, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	names := s.Datasets()
	rows := map[string]*Row{}
	for _, n := range names {
		d, _ := s.Dataset(n)
		rows[n] = d.NewRow()
	}
	idx := func(n string) uint8 {
		for i, m := range names {
			if m == n {
				return uint8(i)
			}
		}
		return 0
	}
	f.Add(idx("person"), "0= 11010519491231002x \n1=王　小明 \n4=汉\n6=+86 138-0013-8000\n7=户籍\n8=５１０１０４０１７００１\n11=2024/3/5 8:30\n9=")
	f.Add(idx("person"), "0=110105194912310021\n2=男\n4=火星族\n6=12345\n8=510104000000\n11=yesterday\nshoe_size=42\n1=\x00\t")
	f.Add(idx("person"), "0=11010519491231002X\n1=王芳\n2=男\n3=1949-12-31\n7=1\n8=510104017001")
	f.Add(idx("person"), "0=11010519491231002X\n1=王芳\n2=外星\n3=1949-13-31\n7=1\n8=510104017001\nzz=1\naa=2")
	f.Add(idx("house"), "region_code=510104017001\naddress=春熙路1号\nuse=住宅\nfloor=15\narea=89.50\nbuilt_year=1790\nowner_id_card=11010519491231002X")
	f.Add(idx("org"), "uscc=91350100m000100y43\nname=某某\xff公司\norg_type=公司\nregion_code=510104017001\nemployees=十")
	f.Add(idx("survey"), "response_id=r1\nsurvey_id=s1\nsurvey_title=满意度\ncategory=满意度\nregion_code=510104017001\nsubmitted_at=2024-03-05T00:30:00Z\ncompleted=是\nsatisfaction=5")
	f.Fuzz(func(t *testing.T, ds uint8, data string) {
		name := names[int(ds)%len(names)]
		d, _ := s.Dataset(name)
		rec := fuzzRecord(d, data)
		wantOut, wantErrs := d.validateRecordRef(rec, asOf)
		gotOut, gotErrs := d.ValidateRecordAt(rec, asOf)
		if !reflect.DeepEqual(gotOut, wantOut) || !reflect.DeepEqual(gotErrs, wantErrs) {
			t.Fatalf("%s %q:\n got %#v %#v\nwant %#v %#v", name, rec, gotOut, gotErrs, wantOut, wantErrs)
		}
		r := rows[name]
		r.Reset()
		for k, v := range rec {
			r.Set(k, v)
			r.Set(k, v) // a repeated key keeps one value, and an unknown one one error
		}
		d.Validate(r, asOf)
		out := map[string]any{}
		for i, v := range r.Values {
			if v.Valid() {
				out[d.Fields[i].Name] = v.Any()
				if v.String() != fmt.Sprint(v.Any()) && v.kind != kindFloat {
					t.Fatalf("String %q, Any %v", v.String(), v.Any())
				}
			}
		}
		if len(r.Errors) == 0 {
			r.Errors = nil
		}
		if !reflect.DeepEqual(out, wantOut) || !reflect.DeepEqual(r.Errors, wantErrs) {
			t.Fatalf("reused row %s %q:\n got %#v %#v\nwant %#v %#v", name, rec, out, r.Errors, wantOut, wantErrs)
		}
	})
}
