package minute

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
)

// harness feeds the sink DoFn directly, one bundle per call, as a runner would.
type harness struct {
	t    *testing.T
	f    *writeFn
	next int64
}

func newHarness(t *testing.T) (*harness, *writeFn) {
	t.Helper()
	cfg, _ := testenv.Warehouse(t)
	f := &writeFn{Warehouse: cfg}
	if err := f.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Teardown)
	return &harness{t: t, f: f}, f
}

// bundle sends values as consecutive records of partition 0 and finishes the bundle.
func (h *harness) bundle(values ...[]byte) {
	h.t.Helper()
	ctx := context.Background()
	for _, v := range values {
		m := kafkaio.Message{From: h.next, Record: kafkaio.Record{Topic: "t", Partition: 0, Offset: h.next, Value: v}}
		h.next++
		if err := h.f.ProcessElement(ctx, m, nil); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.f.FinishBundle(ctx, nil); err != nil {
		h.t.Fatal(err)
	}
}

func canon(evs ...tev) [][]byte {
	out := make([][]byte, len(evs))
	for i, e := range evs {
		out[i] = e.canonical()
	}
	return out
}

// TestSinkExactlyOnce writes duplicates within a bundle, a client's resend in a later bundle, a
// whole bundle read again (as after a crash before the commit), late events for earlier minutes
// and a user whose first event arrives late; every series equals the recount of distinct events.
func TestSinkExactlyOnce(t *testing.T) {
	h, f := newHarness(t)
	t0 := time.Date(2024, 6, 1, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	const a, b, c = "510104017001", "510104017002", "510105001001"
	evs := []tev{
		{ID: "e1", Type: "page", User: "u1", Session: "s1", Region: a, Service: 12, App: "市民云", At: t0.Add(5 * time.Second)},
		{ID: "e2", Type: "track", User: "u1", Session: "s1", Region: a, Service: 12, App: "市民云", At: t0.Add(50 * time.Second)},
		{ID: "e3", Type: "page", User: "u2", Session: "s2", Region: b, Service: 7, App: "市民云", At: t0.Add(70 * time.Second)},
		{ID: "e4", Type: "screen", User: "u3", Session: "s3", Region: c, Service: 7, App: "h5", At: t0.Add(75 * time.Second)},
		{ID: "e5", Type: "identify", User: "u3", Session: "", Region: "", App: "h5", At: t0.Add(80 * time.Second)},
		{ID: "e6", Type: "page", User: "u1", Session: "s1", Region: a, Service: 7, App: "市民云", At: t0.Add(3*time.Minute + 10*time.Second)},
	}
	bundle1 := append(canon(evs...), evs[2].canonical(), []byte("{not json"), []byte(`{"messageId":"x","type":"bogus","anonymousId":"u9","timestamp":"2024-06-01T02:00:00Z"}`))
	h.bundle(bundle1...)

	late := []tev{
		// u2's first event arrives late: u2 is new at t0, no longer at t0+1m.
		{ID: "e7", Type: "page", User: "u2", Session: "s2", Region: b, Service: 7, App: "市民云", At: t0.Add(10 * time.Second)},
		// A late event for a minute already written, and one two hours late in another minute.
		{ID: "e8", Type: "track", User: "u4", Session: "s4", Region: c, Service: 12, App: "h5", At: t0.Add(65 * time.Second)},
		{ID: "e9", Type: "page", User: "u1", Session: "s9", Region: a, Service: 12, App: "市民云", At: t0.Add(-2 * time.Hour)},
	}
	h.bundle(append(canon(late...), evs[0].canonical())...) // and a client's resend of e1
	h.bundle(bundle1...)                                    // re-read after a "crash"
	sent := append(append([]tev{}, evs...), late...)

	checkSeries(t, f.conn, sent, queriesFor(t0.Add(-3*time.Hour), t0.Add(time.Hour), a, 12, "市民云"))
	checkSeries(t, f.conn, sent, queriesFor(t0.Add(-3*time.Hour), t0.Add(time.Hour), c, 7, "h5"))

	var live, rows uint64
	if err := f.conn.QueryRow(context.Background(), "SELECT count(), sum(n) FROM (SELECT user_key, count() AS n FROM dws_user_first_seen GROUP BY user_key, first_time, message_id HAVING sum(sign) > 0)").Scan(&live, &rows); err != nil {
		t.Fatal(err)
	}
	if live != 4 {
		t.Errorf("%d live first events, want one per user (4)", live)
	}
}

func TestSeriesRefusesBadQueries(t *testing.T) {
	from := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		q    Query
	}{
		{"region letters", Query{Region: "5101ab", From: from, To: from.Add(time.Hour), Step: StepMinute}},
		{"region length", Query{Region: "51010", From: from, To: from.Add(time.Hour), Step: StepMinute}},
		{"empty range", Query{Region: "5101", From: from, To: from, Step: StepMinute}},
		{"unknown step", Query{Region: "5101", From: from, To: from.Add(time.Hour), Step: "week"}},
		{"too many points", Query{Region: "5101", From: from, To: from.AddDate(0, 0, 8), Step: StepMinute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Series(context.Background(), nil, tt.q); !errors.Is(err, ErrBadQuery) {
				t.Fatalf("Series = %v, want ErrBadQuery", err)
			}
		})
	}
}

func TestRegionPath(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"510104017001", []string{"510100000000", "510104000000", "510104017000", "510104017001"}},
		{"510104017000", []string{"510100000000", "510104000000", "510104017000"}},
		{"510100000000", []string{"510100000000"}},
		{"", []string{""}},
		{"5101040170", []string{""}},
		{"51010401700a", []string{""}},
	}
	for _, tt := range tests {
		got := regionPath(tt.code)
		if len(got) != len(tt.want) {
			t.Errorf("regionPath(%q) = %v, want %v", tt.code, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("regionPath(%q) = %v, want %v", tt.code, got, tt.want)
				break
			}
		}
	}
}

func TestRegionCode(t *testing.T) {
	tests := []struct{ in, code, prefix string }{
		{"5101", "510100000000", "5101"},
		{"510104", "510104000000", "510104"},
		{"510104017", "510104017000", "510104017"},
		{"510104017001", "510104017001", "510104017001"},
		{"510104000000", "510104000000", "510104"},
	}
	for _, tt := range tests {
		code, prefix, ok := regionCode(tt.in)
		if !ok || code != tt.code || prefix != tt.prefix {
			t.Errorf("regionCode(%q) = %q %q %v, want %q %q", tt.in, code, prefix, ok, tt.code, tt.prefix)
		}
	}
}

// TestSinkManyMonths writes one bundle with events from 100 different months (a client with a
// wrong clock): it is split into inserts that each touch few partitions, and all of it counts.
func TestSinkManyMonths(t *testing.T) {
	h, f := newHarness(t)
	start := time.Date(2015, 1, 10, 3, 0, 0, 0, time.UTC)
	var evs []tev
	for i := 0; i < 100; i++ {
		evs = append(evs, tev{ID: fmt.Sprintf("m%d", i), Type: "page", User: fmt.Sprintf("u%d", i%7), Session: fmt.Sprintf("s%d", i),
			Region: "510104017001", Service: 5, App: "市民云", At: start.AddDate(0, i, 0)})
	}
	h.bundle(canon(evs...)...)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	checkSeries(t, f.conn, evs, []Query{{Region: "5101", From: start.AddDate(0, 0, -1), To: start.AddDate(0, 101, 0), Step: StepDay, Location: shanghai}})
}
