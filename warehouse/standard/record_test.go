package standard

import (
	"reflect"
	"testing"
	"time"
)

var asOf = time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)

func TestValidateRecord(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dataset string
		rec     map[string]string
		want    map[string]any
		errs    []FieldError
	}{
		{
			name: "person normalised and derived", dataset: "person",
			rec: map[string]string{"id_card": " 11010519491231002x ", "name": "王　小明 ", "ethnicity": "汉", "mobile": "+86 138-0013-8000",
				"residence_status": "户籍", "region_code": "５１０１０４０１７００１", "registered_at": "2024/3/5 8:30", "address": ""},
			want: map[string]any{"id_card": "11010519491231002X", "name": "王 小明", "gender": "2", "birth_date": "1949-12-31", "ethnicity": "01",
				"mobile": "13800138000", "residence_status": "1", "region_code": "510104017001", "registered_at": "2024-03-05 08:30:00"},
		},
		{
			name: "person with every kind of error", dataset: "person",
			rec: map[string]string{"id_card": "110105194912310021", "gender": "男", "ethnicity": "火星族", "mobile": "12345",
				"region_code": "510104000000", "registered_at": "yesterday", "shoe_size": "42", "name": "\x00\t"},
			want: map[string]any{"gender": "1"},
			errs: []FieldError{
				{Field: "id_card", Code: CodeFormat, Detail: "checksum", Reason: "resident ID: check character is 1, want X"},
				{Field: "name", Code: CodeRequired, Reason: "empty after cleaning"},
				{Field: "ethnicity", Code: CodeCodeTable, Reason: `"火星族" is not a code of ethnicity (民族)`},
				{Field: "mobile", Code: CodeFormat, Detail: "length", Reason: "mobile number: 5 digits, want 11"},
				{Field: "residence_status", Code: CodeRequired, Reason: "missing"},
				{Field: "region_code", Code: CodeFormat, Detail: "level", Reason: "region code 510104000000 (锦江区) is a district, want a community"},
				{Field: "registered_at", Code: CodeFormat, Detail: "date", Reason: `date "yesterday": want YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD or YYYY年M月D日`},
				{Field: "shoe_size", Code: CodeUnknownField, Reason: "not a field of person"},
			},
		},
		{
			name: "gender contradicts the ID", dataset: "person",
			rec: map[string]string{"id_card": "11010519491231002X", "name": "王芳", "gender": "男", "birth_date": "1949-12-31",
				"residence_status": "1", "region_code": "510104017001"},
			want: map[string]any{"id_card": "11010519491231002X", "name": "王芳", "birth_date": "1949-12-31", "residence_status": "1", "region_code": "510104017001"},
			errs: []FieldError{{Field: "gender", Code: CodeInconsistent, Reason: "1 contradicts id_card (2)"}},
		},
		{
			name: "house numbers", dataset: "house",
			rec:  map[string]string{"region_code": "510104017001", "address": "春熙路1号3栋2单元1501", "use": "住宅", "floor": "15", "area": "89.50", "built_year": "1790"},
			want: map[string]any{"region_code": "510104017001", "address": "春熙路1号3栋2单元1501", "use": "10", "floor": int64(15), "area": 89.5},
			errs: []FieldError{{Field: "built_year", Code: CodeRange, Reason: "1790 is outside 1800–2199"}},
		},
		{
			name: "org and invalid UTF-8", dataset: "org",
			rec:  map[string]string{"uscc": "91350100m000100y43", "name": "某某\xff公司", "org_type": "公司", "region_code": "510104017001", "employees": "十"},
			want: map[string]any{"uscc": "91350100M000100Y43", "org_type": "1", "region_code": "510104017001"},
			errs: []FieldError{
				{Field: "name", Code: CodeEncoding, Detail: "encoding", Reason: "invalid UTF-8 at byte 6"},
				{Field: "employees", Code: CodeType, Reason: `"十" is not an integer`},
			},
		},
		{
			name: "survey bool and length", dataset: "survey",
			rec: map[string]string{"response_id": "r1", "survey_id": "s1", "survey_title": "满意度", "category": "满意度", "region_code": "510104017001",
				"submitted_at": "2024-03-05T00:30:00Z", "completed": "是", "satisfaction": "5"},
			want: map[string]any{"response_id": "r1", "survey_id": "s1", "survey_title": "满意度", "category": "1", "region_code": "510104017001",
				"submitted_at": "2024-03-05 08:30:00", "completed": true, "satisfaction": int64(5)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := s.Dataset(tt.dataset)
			if !ok {
				t.Fatal(tt.dataset)
			}
			got, errs := d.ValidateRecordAt(tt.rec, asOf)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("normalised:\n got %#v\nwant %#v", got, tt.want)
			}
			if !reflect.DeepEqual(errs, tt.errs) {
				t.Errorf("errors:\n got %#v\nwant %#v", errs, tt.errs)
			}
		})
	}
}

var benchPerson = map[string]string{
	"id_card": "11010519491231002X", "name": "王小明", "ethnicity": "汉族", "mobile": "13800138000", "marital_status": "20",
	"residence_status": "1", "region_code": "510104017001", "address": "春熙路1号3栋2单元1501", "registered_at": "2024-03-05 08:30:00",
}

// BenchmarkValidateRecord measures one person record; compare with BenchmarkBaselineCopy, the cost
// of merely copying the record into a new map, in the same run.
func BenchmarkValidateRecord(b *testing.B) {
	s, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	d, _ := s.Dataset("person")
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := d.ValidateRecordAt(benchPerson, asOf); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkBaselineCopy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		out := make(map[string]any, 12)
		for k, v := range benchPerson {
			out[k] = v
		}
	}
}
