package apitest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse"
)

// The fixture's regions (Chengdu, real codes).
const (
	City         = "510100000000" // 成都市
	Jinjiang     = "510104000000" // 锦江区
	Qingyang     = "510105000000" // 青羊区
	Jinguanyi    = "510104017000" // 锦江区 锦官驿街道
	Donghu       = "510104018000" // 锦江区 东湖街道
	Shuijingfang = "510104017001" // 锦官驿街道 水井坊社区
	Chongdeli    = "510104017002" // 锦官驿街道 崇德里社区
	Guanyinqiao  = "510104018001" // 东湖街道 观音桥社区
	Babaojie     = "510105002002" // 青羊区 草市街街道 八宝街社区
	Kuanxiangzi  = "510105005004" // 青羊区 少城街道 宽巷子社区
)

// Latest is the fixture's last day with data; the days are Latest-4 … Latest, with no event
// on Latest-2.
var Latest = time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)

// Event is one app event of the fixture; DaysAgo counts back from Latest.
type Event struct {
	DaysAgo   int
	Region    string
	Service   uint32
	Type      string // "page" and "screen" are page views
	User      string
	MessageID string
}

// Events are the fixture rows. Message m12 arrives twice (a re-delivery that must count once).
// Hand-computed answers are in the apiserver tests.
var Events = []Event{
	{4, Shuijingfang, 1, "page", "u1", "m01"},
	{4, Shuijingfang, 1, "page", "u2", "m02"},
	{4, Chongdeli, 2, "page", "u3", "m03"},
	{4, Babaojie, 1, "page", "u4", "m04"},
	{3, Shuijingfang, 2, "page", "u1", "m05"},
	{3, Guanyinqiao, 1, "track", "u5", "m06"},
	{3, Kuanxiangzi, 3, "page", "u6", "m07"},
	{1, Shuijingfang, 1, "page", "u1", "m08"},
	{1, Babaojie, 2, "page", "u4", "m09"},
	{1, Babaojie, 2, "screen", "u7", "m10"},
	{0, Shuijingfang, 1, "page", "u1", "m11"},
	{0, Shuijingfang, 1, "page", "u2", "m12"},
	{0, Shuijingfang, 1, "page", "u2", "m12"}, // re-delivered
	{0, Chongdeli, 3, "page", "u3", "m13"},
	{0, Guanyinqiao, 1, "page", "u5", "m14"},
	{0, Kuanxiangzi, 1, "track", "u6", "m15"},
	{0, Babaojie, 3, "page", "u8", "m16"},
	{0, Shuijingfang, 2, "page", "u3", "m17"},
	{0, Babaojie, 1, "page", "u1", "m18"},
}

const insertEventsSQL = `INSERT INTO dwd_events (event_date, event_time, received_at, message_id, type, event, user_id,
 anonymous_id, user_key, session_id, region_code, service_id, source, app, os, device, properties, loaded_at)`

// Seed loads Chengdu's dimensions and the fixture events into the connection's (migrated)
// database, in two inserts so the re-delivered event lands in another part, and recomputes the
// daily aggregate for the fixture's days.
func Seed(t testing.TB, conn driver.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := seed(ctx, conn); err != nil {
		t.Fatalf("seed fixture: %v", err)
	}
}

func seed(ctx context.Context, conn driver.Conn) error {
	if _, _, err := warehouse.LoadDimensions(ctx, conn, City); err != nil {
		return fmt.Errorf("load dimensions: %w", err)
	}
	half := len(Events) / 2
	for _, part := range [][]Event{Events[:half], Events[half:]} {
		if err := insertEvents(ctx, conn, part); err != nil {
			return err
		}
	}
	days := map[time.Time]bool{}
	var list []time.Time
	for _, e := range Events {
		d := Latest.AddDate(0, 0, -e.DaysAgo)
		if !days[d] {
			days[d] = true
			list = append(list, d)
		}
	}
	if err := warehouse.RefreshDaily(ctx, conn, list); err != nil {
		return fmt.Errorf("refresh daily: %w", err)
	}
	return nil
}

func insertEvents(ctx context.Context, conn driver.Conn, events []Event) error {
	timed := make([]TimedEvent, len(events))
	for i, e := range events {
		day := Latest.AddDate(0, 0, -e.DaysAgo)
		timed[i] = TimedEvent{Event: e, Date: day, At: day.Add(9*time.Hour + time.Duration(i)*time.Minute)}
	}
	return InsertTimed(ctx, conn, timed)
}

// TimedEvent is an event with its own date (event_date, the local date) and time (event_time
// and received_at); its DaysAgo is not used.
type TimedEvent struct {
	Event
	Date time.Time
	At   time.Time
}

// InsertTimed inserts the events into dwd_events in one insert.
func InsertTimed(ctx context.Context, conn driver.Conn, events []TimedEvent) error {
	b, err := conn.PrepareBatch(ctx, insertEventsSQL)
	if err != nil {
		return fmt.Errorf("prepare dwd_events insert: %w", err)
	}
	defer b.Abort()
	loaded := time.Now().UTC().Truncate(time.Second)
	for _, e := range events {
		if err := b.Append(e.Date, e.At, e.At, e.MessageID, e.Type, "Service Viewed", e.User, "", e.User, "s-"+e.User,
			e.Region, e.Service, "app", "citypulse-test", "android", "phone", "{}", loaded); err != nil {
			return fmt.Errorf("append %s: %w", e.MessageID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert dwd_events: %w", err)
	}
	return nil
}
