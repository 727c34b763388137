package minute

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// FuzzRegionCode checks the region parameter parser: whatever it accepts becomes a 12-digit
// code that starts with the returned prefix, and the code's own path ends with the code.
func FuzzRegionCode(f *testing.F) {
	for _, s := range []string{"5101", "510104", "510104017", "510104017001", "510100000000", "", "51010", "5101-4", "５１０１", "510104017001x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, region string) {
		code, prefix, ok := regionCode(region)
		if !ok {
			return
		}
		if len(code) != 12 || strings.Trim(code, "0123456789") != "" || !strings.HasPrefix(code, prefix) {
			t.Fatalf("regionCode(%q) = %q, %q", region, code, prefix)
		}
		path := regionPath(code)
		if path[len(path)-1] != code || !strings.HasPrefix(code, path[0][:4]) {
			t.Fatalf("regionPath(%q) = %v", code, path)
		}
	})
}

// FuzzSinkDecode feeds arbitrary record values to the sink: it never fails on them, and every
// event it keeps has a message id, a user and a region path.
func FuzzSinkDecode(f *testing.F) {
	t0 := time.Date(2024, 6, 1, 2, 0, 0, 0, time.UTC)
	f.Add(tev{ID: "m1", Type: "page", User: "u1", Session: "s1", Region: "510104017001", Service: 3, App: "a", At: t0}.canonical())
	f.Add(tev{ID: "m2", Type: "track", User: "u2", Region: "", At: t0}.canonical())
	f.Add([]byte(`{"messageId":"x","type":"alias","userId":"u","previousId":"a","timestamp":"2024-06-01T00:00:00Z","context":{"region_code":510104017001}}`))
	f.Add([]byte(`{"messageId":"","type":"page"}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, value []byte) {
		fn := &writeFn{}
		m := kafkaio.Message{Record: kafkaio.Record{Topic: "t", Value: value}}
		if err := fn.ProcessElement(context.Background(), m, nil); err != nil {
			t.Fatalf("ProcessElement: %v", err)
		}
		for _, r := range fn.rows {
			if r.MessageID == "" || r.UserKey == "" || len(r.Regions) == 0 || !r.Minute.Equal(r.EventTime.Truncate(time.Minute)) {
				t.Fatalf("kept row %+v", r)
			}
		}
	})
}
