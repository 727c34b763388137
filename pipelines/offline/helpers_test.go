package offline_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	beam.Init()
	m.Run()
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// ev is one hand-written dwd_events row: at is "YYYY-MM-DD HH:MM:SS" (UTC; the date is the
// event date).
type ev struct {
	id, at, typ, event, user, anon, session, region string
	service                                         uint32
	props                                           string
}

// insertEvents writes the rows in one insert (one part) with loaded_at = loaded.
func insertEvents(t testing.TB, conn driver.Conn, rows []ev, loaded time.Time) {
	t.Helper()
	ctx := testCtx(t)
	b, err := conn.PrepareBatch(ctx, simInsert)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		ts, err := time.Parse(time.DateTime, r.at)
		if err != nil {
			t.Fatal(err)
		}
		day := ts.Truncate(24 * time.Hour)
		key := r.user
		if key == "" {
			key = r.anon
		}
		name := r.event
		if r.typ == "identify" {
			name = "identify"
		}
		if err := b.Append(day, ts, ts, r.id, r.typ, name, r.user, r.anon, key, r.session, r.region, r.service,
			"test", "市民云", "Android", "android", r.props, loaded); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

// diff describes how two sorted row lists differ (at most a few rows each way).
func diff(got, want []string) string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) && len(missing) < 5 {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) && len(extra) < 5 {
			extra = append(extra, g)
		}
	}
	return "missing " + fmtRows(missing) + "; unexpected " + fmtRows(extra)
}

func fmtRows(rows []string) string {
	s := "["
	for i, r := range rows {
		if i > 0 {
			s += "; "
		}
		s += r
	}
	return s + "]"
}
