package minute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/ext"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/pipelines/events"
	"github.com/citypulse/citypulse/warehouse"
)

// detailRow is one dwd_minute_events row. Times are UTC, in whole seconds.
type detailRow struct {
	Minute    time.Time
	EventTime time.Time
	MessageID string
	Type      string
	UserKey   string
	SessionID string
	Regions   []string
	ServiceID uint32
	App       string
	// Rollup rows (is_rollup = 1, see rollups) carry the sums of the new events of one minute,
	// region path, service and app.
	Rollup            bool
	PageViews, Events uint64
	Users, Sessions   []string
}

func fromEventRow(r events.Row) detailRow {
	t := time.Unix(r.EventTime, 0).UTC()
	return detailRow{Minute: t.Truncate(time.Minute), EventTime: t, MessageID: r.MessageID, Type: r.Type,
		UserKey: r.UserKey, SessionID: r.SessionID, Regions: regionPath(r.RegionCode), ServiceID: r.ServiceID, App: r.App}
}

type detailKey struct {
	minute int64
	id     string
}

func (r detailRow) key() detailKey { return detailKey{r.Minute.Unix(), r.MessageID} }

const (
	detailInsert = "INSERT INTO dwd_minute_events (minute, event_time, message_id, type, user_key, session_id, regions, service_id, app, loaded_at, is_rollup, page_views, events, users, sessions)"
	// detailExists finds which keys of the external table batch_keys are stored already.
	detailExists = `SELECT minute, message_id FROM dwd_minute_events
WHERE minute IN (SELECT minute FROM batch_keys) AND (minute, message_id) IN (SELECT minute, message_id FROM batch_keys)`

	firstSeenInsert = "INSERT INTO dws_user_first_seen (user_key, first_time, message_id, regions, service_id, app, sign, recorded_at)"
	// firstSeenLive reads the live first event of users: the entries whose +1 is not retracted.
	firstSeenLive = `SELECT user_key, first_time, message_id, regions, service_id, app FROM dws_user_first_seen
WHERE user_key IN (SELECT user_key FROM batch_users) GROUP BY user_key, first_time, message_id, regions, service_id, app HAVING sum(sign) > 0`
)

// store writes the minute tables. Every write is a check of what is already there followed by an
// insert of the rest, retried as a whole: a retry after an insert whose acknowledgement was lost
// finds the rows and inserts nothing, so nothing is counted twice.
type store struct {
	conn    driver.Conn
	retries int
	backoff time.Duration
}

func newStore(conn driver.Conn) *store {
	return &store{conn: conn, retries: 5, backoff: 200 * time.Millisecond}
}

// views are the materialized views that turn dwd_minute_events and dws_user_first_seen rows into
// metrics. A row inserted while one is missing would never be counted (the pipeline skips rows it
// already has), so the sink refuses to start until all of them exist.
var views = []string{"mv_minute_events", "mv_minute_new_users", "mv_minute_sessions"}

// ErrNotMigrated is returned when the minute tables or their views are missing.
var ErrNotMigrated = errors.New("minute tables are not migrated (run citypulse migrate)")

// openStore connects to the warehouse and checks the minute tables' schema; the caller closes the
// connection.
func openStore(ctx context.Context, cfg warehouse.Config) (driver.Conn, *store, error) {
	conn, err := warehouse.Open(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("minute sink: %w", err)
	}
	st := newStore(conn)
	if err := st.checkSchema(ctx); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("minute sink: %w", err)
	}
	return conn, st, nil
}

// write writes a batch: the events not stored yet, then their users' first events. It returns
// how many events were new and how many users were seen for the first time.
func (st *store) write(ctx context.Context, rows []detailRow) (written, newUsers int, err error) {
	if len(rows) == 0 {
		return 0, 0, nil
	}
	if written, err = st.insertNew(ctx, rows); err != nil {
		return 0, 0, fmt.Errorf("minute sink: %w", err)
	}
	if newUsers, err = st.updateFirstSeen(ctx, rows); err != nil {
		return written, 0, fmt.Errorf("minute sink: %w", err)
	}
	return written, newUsers, nil
}

// checkSchema fails unless every view of the minute tables exists.
func (st *store) checkSchema(ctx context.Context) error {
	var n uint64
	if err := st.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name IN ?",
		clickhouse.GroupSet{Value: []any{views[0], views[1], views[2]}}).Scan(&n); err != nil {
		return fmt.Errorf("check the minute tables: %w", err)
	}
	if n != uint64(len(views)) {
		return fmt.Errorf("%w: %d of the views %v exist", ErrNotMigrated, n, views)
	}
	// Migration 0012: mv_minute_events counts the rollup rows the sink writes.
	if err := st.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'dwd_minute_events' AND name = 'is_rollup'").Scan(&n); err != nil {
		return fmt.Errorf("check the minute tables: %w", err)
	}
	if n != 1 {
		return fmt.Errorf("%w: dwd_minute_events has no rollup columns (migration 0012)", ErrNotMigrated)
	}
	return nil
}

// retry runs op until it succeeds, ctx ends, or st.retries retries failed.
func (st *store) retry(ctx context.Context, what string, op func() error) error {
	wait := st.backoff
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		if attempt >= st.retries || ctx.Err() != nil {
			return fmt.Errorf("%s (after %d attempts): %w", what, attempt+1, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// insertNew inserts the rows whose (minute, message_id) dwd_minute_events does not have yet (a
// key repeated within rows counts once: its first row), together with their rollup rows (see
// rollups), and returns how many events that was. The rollups are computed once, from the
// first check; a retry inserts whatever of events and rollups the table still lacks.
func (st *store) insertNew(ctx context.Context, rows []detailRow) (int, error) {
	seen := make(map[detailKey]bool, len(rows))
	uniq := make([]detailRow, 0, len(rows))
	for _, r := range rows {
		if k := r.key(); !seen[k] {
			seen[k] = true
			uniq = append(uniq, r)
		}
	}
	added := -1
	var pending []detailRow
	err := st.retry(ctx, "write dwd_minute_events", func() error {
		check := pending
		if added < 0 {
			check = uniq
		}
		missing, err := st.missing(ctx, check)
		if err != nil {
			return err
		}
		if added < 0 {
			added = len(missing)
			missing = append(missing, rollups(missing)...)
		}
		pending = missing
		if len(pending) == 0 {
			return nil
		}
		return st.insertDetail(ctx, pending)
	})
	return max(added, 0), err
}

// missing returns the rows whose key is not in dwd_minute_events. The keys go to the server as
// an external table (data, not query text), so one query checks any number of them.
func (st *store) missing(ctx context.Context, rows []detailRow) ([]detailRow, error) {
	keys, err := ext.NewTable("batch_keys", ext.Column("minute", "DateTime"), ext.Column("message_id", "String"))
	if err != nil {
		return nil, fmt.Errorf("check dwd_minute_events: %w", err)
	}
	for _, r := range rows {
		if err := keys.Append(r.Minute, r.MessageID); err != nil {
			return nil, fmt.Errorf("check dwd_minute_events: %w", err)
		}
	}
	have, err := st.conn.Query(clickhouse.Context(ctx, clickhouse.WithExternalTable(keys)), detailExists)
	if err != nil {
		return nil, fmt.Errorf("check dwd_minute_events: %w", err)
	}
	defer have.Close()
	found := map[detailKey]bool{}
	for have.Next() {
		var m time.Time
		var id string
		if err := have.Scan(&m, &id); err != nil {
			return nil, fmt.Errorf("check dwd_minute_events: %w", err)
		}
		found[detailKey{m.Unix(), id}] = true
	}
	if err := have.Err(); err != nil {
		return nil, fmt.Errorf("check dwd_minute_events: %w", err)
	}
	var out []detailRow
	for _, r := range rows {
		if !found[r.key()] {
			out = append(out, r)
		}
	}
	return out, nil
}

// maxMonthsPerInsert bounds the partitions (months) one insert touches: current ClickHouse
// refuses an insert block spanning more than max_partitions_per_insert_block (100) partitions,
// and a client with a wrong clock can send events from many years.
const maxMonthsPerInsert = 40

// insertDetail inserts rows, in as many inserts as their months require.
func (st *store) insertDetail(ctx context.Context, rows []detailRow) error {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b detailRow) int { return a.Minute.Compare(b.Minute) })
	for start := 0; start < len(rows); {
		end, months, last := start, 0, ""
		for ; end < len(rows); end++ {
			if m := rows[end].Minute.Format("200601"); m != last {
				if months == maxMonthsPerInsert {
					break
				}
				months, last = months+1, m
			}
		}
		if err := st.insertDetailBatch(ctx, rows[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

func (st *store) insertDetailBatch(ctx context.Context, rows []detailRow) error {
	// The views run in parallel: the insert's latency is the slowest view's, not their sum.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"parallel_view_processing": 1}))
	b, err := st.conn.PrepareBatch(ctx, detailInsert)
	if err != nil {
		return fmt.Errorf("insert dwd_minute_events: %w", err)
	}
	now := time.Now()
	for _, r := range rows {
		var rollup uint8
		if r.Rollup {
			rollup = 1
		}
		users, sessions := r.Users, r.Sessions
		if users == nil {
			users = []string{}
		}
		if sessions == nil {
			sessions = []string{}
		}
		if err := b.Append(r.Minute, r.EventTime, r.MessageID, r.Type, r.UserKey, r.SessionID, r.Regions, r.ServiceID, r.App, now,
			rollup, r.PageViews, r.Events, users, sessions); err != nil {
			_ = b.Abort()
			return fmt.Errorf("insert dwd_minute_events row %s: %w", r.MessageID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert dwd_minute_events (%d rows): %w", len(rows), err)
	}
	return nil
}

// firstEvent is a user's first event as dws_user_first_seen records it.
type firstEvent struct {
	UserKey   string
	Time      time.Time
	MessageID string
	Regions   []string
	ServiceID uint32
	App       string
}

// before orders first events by time, then message id (so ties have one answer).
func (a firstEvent) before(b firstEvent) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.Before(b.Time)
	}
	return a.MessageID < b.MessageID
}

func (a firstEvent) same(b firstEvent) bool {
	return a.Time.Equal(b.Time) && a.MessageID == b.MessageID
}

// updateFirstSeen makes every user of rows have exactly one live first event in
// dws_user_first_seen: the earliest of the recorded one and the user's earliest event in rows.
// It writes +1 for a new first event and -1 for one it replaces, and returns how many users had
// none before (new users).
func (st *store) updateFirstSeen(ctx context.Context, rows []detailRow) (int, error) {
	cand := map[string]firstEvent{}
	for _, r := range rows {
		if r.UserKey == "" {
			continue
		}
		e := firstEvent{UserKey: r.UserKey, Time: r.EventTime, MessageID: r.MessageID, Regions: r.Regions, ServiceID: r.ServiceID, App: r.App}
		if c, ok := cand[r.UserKey]; !ok || e.before(c) {
			cand[r.UserKey] = e
		}
	}
	if len(cand) == 0 {
		return 0, nil
	}
	users := make([]string, 0, len(cand))
	for u := range cand {
		users = append(users, u)
	}
	added := -1
	err := st.retry(ctx, "write dws_user_first_seen", func() error {
		live, err := st.liveFirst(ctx, users)
		if err != nil {
			return err
		}
		var deltas []firstEvent
		var signs []int8
		fresh := 0
		for u, c := range cand {
			have := live[u]
			if len(have) == 0 {
				fresh++
			}
			best := c
			for _, h := range have {
				if h.before(best) {
					best = h
				}
			}
			kept := false
			for _, h := range have {
				if h.same(best) && !kept {
					kept = true
					continue
				}
				deltas, signs = append(deltas, h), append(signs, -1)
			}
			if !kept {
				deltas, signs = append(deltas, best), append(signs, 1)
			}
		}
		if added < 0 {
			added = fresh
		}
		if len(deltas) == 0 {
			return nil
		}
		return st.insertFirstSeen(ctx, deltas, signs)
	})
	return max(added, 0), err
}

// liveFirst returns the live first events of users (normally one each); the users go to the
// server as an external table.
func (st *store) liveFirst(ctx context.Context, users []string) (map[string][]firstEvent, error) {
	keys, err := ext.NewTable("batch_users", ext.Column("user_key", "String"))
	if err != nil {
		return nil, fmt.Errorf("read dws_user_first_seen: %w", err)
	}
	for _, u := range users {
		if err := keys.Append(u); err != nil {
			return nil, fmt.Errorf("read dws_user_first_seen: %w", err)
		}
	}
	rows, err := st.conn.Query(clickhouse.Context(ctx, clickhouse.WithExternalTable(keys)), firstSeenLive)
	if err != nil {
		return nil, fmt.Errorf("read dws_user_first_seen: %w", err)
	}
	defer rows.Close()
	out := map[string][]firstEvent{}
	for rows.Next() {
		var e firstEvent
		if err := rows.Scan(&e.UserKey, &e.Time, &e.MessageID, &e.Regions, &e.ServiceID, &e.App); err != nil {
			return nil, fmt.Errorf("read dws_user_first_seen: %w", err)
		}
		out[e.UserKey] = append(out[e.UserKey], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read dws_user_first_seen: %w", err)
	}
	return out, nil
}

func (st *store) insertFirstSeen(ctx context.Context, es []firstEvent, signs []int8) error {
	b, err := st.conn.PrepareBatch(ctx, firstSeenInsert)
	if err != nil {
		return fmt.Errorf("insert dws_user_first_seen: %w", err)
	}
	now := time.Now()
	for i, e := range es {
		if err := b.Append(e.UserKey, e.Time.UTC(), e.MessageID, e.Regions, e.ServiceID, e.App, signs[i], now); err != nil {
			_ = b.Abort()
			return fmt.Errorf("insert dws_user_first_seen for %s: %w", e.UserKey, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert dws_user_first_seen (%d rows): %w", len(es), err)
	}
	return nil
}
