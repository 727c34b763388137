package warehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

type testEvent struct {
	day       time.Time
	messageID string
	typ       string
	user      string
	region    string
	service   uint32
	loadedAt  time.Time
}

func TestRefreshDaily(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	next := day.AddDate(0, 0, 1)
	loaded := time.Date(2024, 5, 2, 1, 0, 0, 0, time.UTC)
	events := []testEvent{
		{day, "m1", "page", "u1", "510104001001", 1, loaded},
		{day, "m1", "page", "u1", "510104001001", 1, loaded.Add(time.Minute)}, // re-delivered
		{day, "m2", "screen", "u2", "510104001001", 1, loaded},
		{day, "m3", "track", "u1", "510104001001", 1, loaded},
		{day, "m4", "page", "u3", "510104002003", 2, loaded},
		{day, "m5", "page", "u1", "510105001001", 1, loaded},
		{day, "m6", "identify", "u5", "510105001001", 1, loaded},
		{next, "m7", "page", "u4", "510104001001", 1, loaded},
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO dwd_events (event_date, event_time, received_at, message_id, type, event, user_key, region_code, service_id, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		at := e.day.Add(9 * time.Hour)
		if err := b.Append(e.day, at, at, e.messageID, e.typ, "", e.user, e.region, e.service, e.loadedAt); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}

	type totals struct{ pageViews, events, users uint64 }
	read := func(prefix string) totals {
		t.Helper()
		var got totals
		err := conn.QueryRow(ctx, `SELECT sum(page_views), sum(events), uniqCombinedMerge(users)
FROM dws_region_service_daily FINAL WHERE event_date = toDate('2024-05-01') AND region_code LIKE ?`, prefix+"%").
			Scan(&got.pageViews, &got.events, &got.users)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := map[string]totals{
		"510104": {pageViews: 3, events: 4, users: 3}, // m1 once, m2 (screen), m3, m4; u1 u2 u3
		"510105": {pageViews: 1, events: 2, users: 2},
		"5101":   {pageViews: 4, events: 6, users: 4},
	}
	// The day given in another zone, late in its evening, is still 1 May there; a repeat is done once.
	shanghai := time.FixedZone("CST", 8*3600)
	days := []time.Time{time.Date(2024, 5, 1, 23, 30, 0, 0, shanghai), day}
	for run := 1; run <= 2; run++ {
		if err := warehouse.RefreshDaily(ctx, conn, days); err != nil {
			t.Fatalf("refresh %d: %v", run, err)
		}
		for prefix, w := range want {
			if got := read(prefix); got != w {
				t.Errorf("refresh %d, regions %s…: %+v, want %+v", run, prefix, got, w)
			}
		}
		if n := queryUint(t, conn, "SELECT count() FROM dws_region_service_daily FINAL"); n != 3 {
			t.Errorf("refresh %d: %d rows, want 3 (one per day, region and service; 2 May not refreshed)", run, n)
		}
	}
	if err := warehouse.RefreshDaily(context.Background(), conn, []time.Time{next}); err != nil {
		t.Fatal(err)
	}
	if n := queryUint(t, conn, "SELECT sum(page_views) FROM dws_region_service_daily FINAL WHERE event_date = toDate('2024-05-02')"); n != 1 {
		t.Errorf("2 May page views = %d, want 1", n)
	}
}
