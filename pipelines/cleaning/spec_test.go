package cleaning

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/warehouse/standard"
)

// TestSpecsFollowStandard checks every Spec against its dataset's standard: every field has its
// column(s) in a kind that fits its type, nothing else is there besides identity, region levels
// and lineage, and personal fields are protected.
func TestSpecsFollowStandard(t *testing.T) {
	std, err := standard.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(func(yield func(string) bool) {
		for k := range Specs {
			if !yield(k) {
				return
			}
		}
	}), std.Datasets(); !slices.Equal(got, want) {
		t.Errorf("Specs %q, want one per dataset of the standard %q", got, want)
	}
	for name, spec := range Specs {
		t.Run(name, func(t *testing.T) {
			ds, ok := std.Dataset(name)
			if !ok {
				t.Fatalf("no dataset %s in the standard", name)
			}
			if spec.Dataset != name || spec.Table != "dwd_"+name {
				t.Errorf("Dataset %q, Table %q", spec.Dataset, spec.Table)
			}
			kinds := map[string]string{}
			for _, c := range spec.Columns {
				if _, dup := kinds[c.Name]; dup {
					t.Errorf("column %s twice", c.Name)
				}
				kinds[c.Name] = c.Kind
			}
			want := map[string]string{MetaIdentityKey: KindString}
			for _, c := range lineageColumns {
				want[c.Name] = c.Kind
			}
			for _, f := range ds.Fields {
				if _, ok := spec.Protect[f.Name]; ok {
					for _, c := range protectedColumns(f.Name) {
						want[c.Name] = c.Kind
					}
				} else {
					want[f.Name] = kindOf(f)
				}
				if f.Sensitivity == standard.Personal && spec.Protect[f.Name] == nil &&
					(f.Format == standard.FormatIDCard || f.Format == standard.FormatMobile || name != "person") {
					t.Errorf("personal field %s is not protected", f.Name)
				}
				if f.Format == standard.FormatRegionCode {
					for _, c := range regionColumns(f.Name) {
						want[c.Name] = c.Kind
					}
				}
			}
			for p := range spec.Protect {
				if _, ok := ds.Field(p); !ok {
					t.Errorf("protected field %s is not in the standard", p)
				}
			}
			if !reflect.DeepEqual(kinds, want) {
				for n, k := range want {
					if kinds[n] != k {
						t.Errorf("column %s: kind %q, want %q", n, kinds[n], k)
					}
				}
				for n := range kinds {
					if _, ok := want[n]; !ok {
						t.Errorf("column %s: not from the standard", n)
					}
				}
			}
			if spec.Columns[0].Name != MetaIdentityKey {
				t.Errorf("first column %s, want identity_key", spec.Columns[0].Name)
			}
		})
	}
}

// kindOf is the column kind a field's type asks for.
func kindOf(f *standard.Field) string {
	required := f.Required || f.DerivedFrom != ""
	pick := func(req, opt string) string {
		if required {
			return req
		}
		return opt
	}
	switch f.Type {
	case standard.TypeInt:
		return KindInt64Or
	case standard.TypeDecimal:
		return KindFloat64Or
	case standard.TypeDate:
		return pick(KindDate, KindDateOr)
	case standard.TypeDateTime:
		return pick(KindDateTime, KindDateTimeOr)
	case standard.TypeBool:
		return pick(KindBool, KindBoolOr)
	}
	return KindString
}

func TestConvert(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 0, cst)
	one, zero := uint8(1), uint8(0)
	n, f := int64(-3), 2.5
	tests := []struct {
		kind, in string
		want     any
		err      bool
	}{
		{KindString, "x", "x", false},
		{KindDate, "2024-05-06", "2024-05-06", false},
		{KindDate, "1948-10-01", "1948-10-01", false}, // before 1970: 18.16's Date cannot hold it
		{KindDate, "", "", false},
		{KindDate, "1948-02-30", nil, true},
		{KindDateOr, "2024-05-06", ptr("2024-05-06"), false},
		{KindDateOr, "", (*string)(nil), false},
		{KindDateOr, "2024-13-01", nil, true},
		{KindDateTime, "2024-05-06 07:08:09", at, false},
		{KindDateTimeOr, "", (*time.Time)(nil), false},
		{KindDateTimeOr, "2024-05-06 07:08:09", &at, false},
		{KindInt64Or, "-3", &n, false},
		{KindInt64Or, "", (*int64)(nil), false},
		{KindFloat64Or, "2.5", &f, false},
		{KindBool, "true", uint8(1), false},
		{KindBool, "0", uint8(0), false},
		{KindBool, "", uint8(0), false},
		{KindBoolOr, "true", &one, false},
		{KindBoolOr, "false", &zero, false},
		{KindBoolOr, "", (*uint8)(nil), false},
		{KindBoolOr, "yes", nil, true},
		{KindUInt64, "7", uint64(7), false},
		{"nope", "", nil, true},
	}
	for _, tt := range tests {
		got, err := convert(tt.kind, tt.in, nil, 0)
		if (err != nil) != tt.err {
			t.Errorf("convert(%s, %q) error %v, want error %v", tt.kind, tt.in, err, tt.err)
			continue
		}
		if tt.err {
			continue
		}
		if g, ok := got.(time.Time); ok {
			if !g.Equal(tt.want.(time.Time)) {
				t.Errorf("convert(%s, %q) = %v, want %v", tt.kind, tt.in, g, tt.want)
			}
			continue
		}
		if g, ok := got.(*time.Time); ok && g != nil {
			if !g.Equal(*tt.want.(*time.Time)) {
				t.Errorf("convert(%s, %q) = %v, want %v", tt.kind, tt.in, g, tt.want)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("convert(%s, %q) = %#v, want %#v", tt.kind, tt.in, got, tt.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	for in, want := range map[string]string{"张三": "张*", "欧阳小明": "欧***", "王": "*", "": ""} {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
	if strings.Contains(MaskName("Li Si"), "Si") {
		t.Error("MaskName keeps the tail")
	}
}

func ptr[T any](v T) *T { return &v }
