package offline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/simulate"
	"github.com/citypulse/citypulse/pipelines/events"
)

// simLoad generates the simulator's history (residents over days ending at end) in-process and
// loads it into dwd_events as the events pipeline would have written it (the fields mirror
// events.Clean for the simulator's events; TestSimRowMatchesClean checks that). Every dupEvery-th
// event (0: none) is written a second time in a later insert, with a later loaded_at, as a
// re-delivered duplicate. It returns the distinct events and the rows inserted.
func simLoad(ctx context.Context, conn driver.Conn, residents, days int, end string, dupEvery int) (events, rows int, err error) {
	cfg := simulate.DefaultConfig()
	cfg.Residents, cfg.Days, cfg.EndDate, cfg.Seed = residents, days, end, 7
	sim, err := simulate.New(cfg, nil)
	if err != nil {
		return 0, 0, err
	}
	const batchRows = 200_000
	cols := newSimCols(batchRows)
	dups := newSimCols(batchRows)
	loaded := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	flush := func(c *simCols, at time.Time) error {
		if c.n == 0 {
			return nil
		}
		if err := c.send(ctx, conn, at); err != nil {
			return err
		}
		rows += c.n
		c.reset()
		return nil
	}
	for e := range sim.Generate {
		r := simRow(e)
		cols.add(r)
		events++
		if dupEvery > 0 && events%dupEvery == 0 {
			dups.add(r)
		}
		if cols.n >= batchRows {
			if err := flush(cols, loaded); err != nil {
				return events, rows, err
			}
		}
		if dups.n >= batchRows {
			if err := flush(dups, loaded.Add(time.Hour)); err != nil {
				return events, rows, err
			}
		}
	}
	if err := flush(cols, loaded); err != nil {
		return events, rows, err
	}
	return events, rows, flush(dups, loaded.Add(time.Hour))
}

var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// simDWD is one dwd_events row of a simulated event.
type simDWD struct {
	date                                                          time.Time
	ts                                                            time.Time
	id, typ, name, user, anon, key, session, region, app, os, dev string
	service                                                       uint32
	props                                                         string
}

func simRow(e simulate.Event) simDWD {
	r := simDWD{ts: e.Timestamp.Truncate(time.Second), id: e.MessageID, typ: e.Type, user: e.UserID, anon: e.AnonymousID,
		session: e.Context.SessionID, region: e.Context.RegionCode, app: e.Context.App.Name, os: e.Context.OS.Name, dev: e.Context.Device.Type}
	y, m, d := e.Timestamp.In(shanghai).Date()
	r.date = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch e.Type {
	case simulate.TypeTrack:
		r.name = e.Event
	case simulate.TypePage, simulate.TypeScreen:
		r.name = e.Name
	case simulate.TypeIdentify:
		r.name = "identify"
	}
	r.key = r.user
	if r.key == "" {
		r.key = r.anon
	}
	r.props = "{}"
	if e.Properties != nil {
		r.service = e.Properties.ServiceID
		b, _ := json.Marshal(e.Properties)
		r.props = string(b)
	}
	return r
}

// simCols buffers rows column by column for a columnar insert.
type simCols struct {
	n                                                             int
	date, ts                                                      []time.Time
	id, typ, name, user, anon, key, session, region, app, os, dev []string
	service                                                       []uint32
	props                                                         []string
}

func newSimCols(capacity int) *simCols { return &simCols{} }

func (c *simCols) add(r simDWD) {
	c.n++
	c.date, c.ts = append(c.date, r.date), append(c.ts, r.ts)
	c.id, c.typ, c.name = append(c.id, r.id), append(c.typ, r.typ), append(c.name, r.name)
	c.user, c.anon, c.key = append(c.user, r.user), append(c.anon, r.anon), append(c.key, r.key)
	c.session, c.region = append(c.session, r.session), append(c.region, r.region)
	c.app, c.os, c.dev = append(c.app, r.app), append(c.os, r.os), append(c.dev, r.dev)
	c.service, c.props = append(c.service, r.service), append(c.props, r.props)
}

func (c *simCols) reset() { *c = simCols{} }

const simInsert = `INSERT INTO dwd_events (event_date, event_time, received_at, message_id, type, event, user_id,
anonymous_id, user_key, session_id, region_code, service_id, source, app, os, device, properties, loaded_at)`

func (c *simCols) send(ctx context.Context, conn driver.Conn, loadedAt time.Time) error {
	b, err := conn.PrepareBatch(ctx, simInsert)
	if err != nil {
		return fmt.Errorf("prepare dwd_events insert: %w", err)
	}
	src := make([]string, c.n)
	loaded := make([]time.Time, c.n)
	for i := range loaded {
		src[i], loaded[i] = "simulator", loadedAt
	}
	for i, col := range []any{c.date, c.ts, c.ts, c.id, c.typ, c.name, c.user, c.anon, c.key, c.session,
		c.region, c.service, src, c.app, c.os, c.dev, c.props, loaded} {
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("append column %d: %w", i, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d dwd_events rows: %w", c.n, err)
	}
	return nil
}

// TestSimRowMatchesClean: the loader's rows are what the events pipeline's cleaning makes of the
// simulator's events.
func TestSimRowMatchesClean(t *testing.T) {
	cfg := simulate.DefaultConfig()
	cfg.Residents, cfg.Days, cfg.EndDate = 50, 2, "2026-11-04"
	sim, err := simulate.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for e := range sim.Generate {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var ce event.Event
		if err := json.Unmarshal(b, &ce); err != nil {
			t.Fatal(err)
		}
		ce.ReceivedAt, ce.Source = e.Timestamp, "simulator"
		want, err := events.Clean(ce, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		r := simRow(e)
		got := events.Row{EventDate: r.date.Format(time.DateOnly), EventTime: r.ts.Unix(), ReceivedAt: r.ts.Unix(), MessageID: r.id,
			Type: r.typ, Event: r.name, UserID: r.user, AnonymousID: r.anon, UserKey: r.key, SessionID: r.session,
			RegionCode: r.region, ServiceID: r.service, Source: "simulator", App: r.app, OS: r.os, Device: r.dev, Properties: r.props}
		if got != want {
			t.Fatalf("event %d:\n got %+v\nwant %+v", n, got, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no events")
	}
}
