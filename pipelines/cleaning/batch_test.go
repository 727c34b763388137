package cleaning

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// benchRecords are person records as the gateway ships them: every field given, some dirty.
func benchRecords(b *testing.B, n int) []kafkaio.Record {
	b.Helper()
	out := make([]kafkaio.Record, n)
	for i := range out {
		f := map[string]any{"id_card": maleID, "name": "张三丰", "gender": "男", "birth_date": "1985-07-12",
			"ethnicity": "01", "marital_status": "20", "mobile": fmt.Sprintf("1380013%04d", i%10000), "residence_status": "1",
			"region_code": "510104017001", "address": "锦江区春熙路街道某小区3栋2单元501", "hukou_address": "四川省成都市锦江区某街道",
			"registered_at": "2020-05-01 10:00:00"}
		if i%3 == 0 {
			f["birth_date"] = "19850712"
			f["name"] = " 张三丰 "
		}
		out[i] = feed(b, "community", int64(i+1), f)
	}
	return out
}

func BenchmarkClean(b *testing.B) {
	c := newCleaner(b)
	recs := benchRecords(b, 1000)
	if row, q := c.Clean(recs[0]); row == nil {
		b.Fatalf("quarantined: %+v", q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Clean(recs[i%len(recs)])
	}
}

func BenchmarkValues(b *testing.B) {
	c := newCleaner(b)
	recs := benchRecords(b, 1000)
	rows := make([]*Cleaned, len(recs))
	for i, r := range recs {
		rows[i], _ = c.Clean(r)
	}
	spec := Specs["person"]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := spec.Values(*rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValuerMatchesValues: the writer's valuer converts rows as Spec.Values does, across rows of
// changing layouts.
func TestValuerMatchesValues(t *testing.T) {
	c := newCleaner(t)
	v := valuer{spec: Specs["person"]}
	for i, fields := range []map[string]any{
		person(maleID), with(person(maleID), "mobile", "13800138000", "birth_date", "1985-07-12"),
		person(femaleID), with(person(femaleID), "address", "某路1号", "registered_at", "2020-05-01 10:00:00"), person(maleID),
	} {
		row, q := c.Clean(feed(t, "community", int64(i+1), fields))
		if row == nil {
			t.Fatalf("row %d quarantined: %+v", i, q)
		}
		want, err := Specs["person"].Values(*row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.values(row)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("row %d: got %v, %v\nwant %v", i, got, err, want)
		}
	}
}

// BenchmarkCleanRow is what each record costs in the pipeline: Clean, then the writer's
// valuer.values (the column values the sink gets).
func BenchmarkCleanRow(b *testing.B) {
	c := newCleaner(b)
	recs := benchRecords(b, 1000)
	v := valuer{spec: Specs["person"]}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		row, q := c.Clean(recs[i%len(recs)])
		if row == nil {
			b.Fatalf("quarantined: %+v", q)
		}
		if _, err := v.values(row); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDateParsers holds the date shortcuts of convert to package time: isDateOnly accepts only
// what time.ParseInLocation(time.DateOnly, …) accepts, and parseDateTime gives exactly what
// time.ParseInLocation(time.DateTime, …, cst) gives.
func FuzzDateParsers(f *testing.F) {
	for _, s := range []string{"2024-03-05", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-01-01", "9999-12-31",
		"2024-13-01", "2024-00-10", "2024-1-05", "2024-03-05 08:30:00", "2024-03-05 23:59:59", "2024-03-05 24:00:00",
		"2024-03-05 08:30:60", "2024-03-05 08:30:00.5", "2024-03-05T08:30:00", "1800-01-01 00:00:00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isDateOnly(s) {
			if _, err := time.ParseInLocation(time.DateOnly, s, time.UTC); err != nil {
				t.Fatalf("isDateOnly(%q), but %v", s, err)
			}
		}
		got, err := parseDateTime(s)
		want, werr := time.ParseInLocation(time.DateTime, s, cst)
		if !reflect.DeepEqual(got, want) || fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Fatalf("parseDateTime(%q) = %#v, %v; want %#v, %v", s, got, err, want, werr)
		}
	})
}
