package offline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/parquet-go/parquet-go"

	"github.com/citypulse/citypulse/pipelines/chsource"
	"github.com/citypulse/citypulse/warehouse"
)

// ArchiveColumns are dwd_events' columns as the Parquet archive holds them (dates as
// YYYY-MM-DD, times as Unix seconds), for chsource.ReadParquet.
var ArchiveColumns = []chsource.Column{
	{Name: "event_date"}, {Name: "event_time", Kind: chsource.Int}, {Name: "received_at", Kind: chsource.Int},
	{Name: "message_id"}, {Name: "type"}, {Name: "event"}, {Name: "user_id"}, {Name: "anonymous_id"},
	{Name: "user_key"}, {Name: "session_id"}, {Name: "region_code"}, {Name: "service_id", Kind: chsource.Uint},
	{Name: "source"}, {Name: "app"}, {Name: "os"}, {Name: "device"}, {Name: "properties"},
	{Name: "loaded_at", Kind: chsource.Int},
}

// archiveRow is one row of an archive file, in ArchiveColumns' order.
type archiveRow struct {
	EventDate   string `parquet:"event_date,dict"`
	EventTime   int64  `parquet:"event_time"`
	ReceivedAt  int64  `parquet:"received_at"`
	MessageID   string `parquet:"message_id"`
	Type        string `parquet:"type,dict"`
	Event       string `parquet:"event,dict"`
	UserID      string `parquet:"user_id"`
	AnonymousID string `parquet:"anonymous_id"`
	UserKey     string `parquet:"user_key"`
	SessionID   string `parquet:"session_id"`
	RegionCode  string `parquet:"region_code,dict"`
	ServiceID   int64  `parquet:"service_id"`
	Source      string `parquet:"source,dict"`
	App         string `parquet:"app,dict"`
	OS          string `parquet:"os,dict"`
	Device      string `parquet:"device,dict"`
	Properties  string `parquet:"properties,zstd"`
	LoadedAt    int64  `parquet:"loaded_at"`
}

// ArchiveResult is what Archive wrote.
type ArchiveResult struct {
	Files []string
	Rows  int64
	// Dropped reports that the month's partition was dropped from dwd_events.
	Dropped bool
}

// ArchiveOptions say where and how a month is archived.
type ArchiveOptions struct {
	// Dir receives the files dwd_events_<YYYYMM>_<unit>.parquet (rewritten by a rerun).
	Dir string
	// RowGroupRows is the size of the files' row groups, the units a read of the archive is
	// split in (default 100,000).
	RowGroupRows int64
	// Drop drops the month's partition from dwd_events once the files hold every row.
	Drop bool
}

// ErrArchiveIncomplete is matched by errors of an archive whose files do not hold the rows the
// table had: nothing is dropped then.
var ErrArchiveIncomplete = errors.New("archive incomplete")

// Archive exports a month (YYYY-MM) of dwd_events, deduplicated as FINAL, to Parquet files in
// opt.Dir, one per unit of chsource's plan (region code ranges), each written to a temporary
// name and renamed when complete; a rerun replaces the month's files. It counts the month's rows
// before and after writing; when the files hold exactly them and opt.Drop is set, it drops the
// month's partition (the cold data then lives in the files, read back with chsource.ReadParquet
// and ArchiveColumns). A month with no rows left in the table is not touched (its files, if
// any, are returned). Archive cold months only: rows loaded meanwhile fail the count check.
func Archive(ctx context.Context, wh warehouse.Config, month string, opt ArchiveOptions) (ArchiveResult, error) {
	var res ArchiveResult
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return res, fmt.Errorf("archive month %q: want YYYY-MM", month)
	}
	part := m.Format("200601")
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = 100_000
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return res, fmt.Errorf("archive directory: %w", err)
	}
	conn, err := warehouse.Open(ctx, wh)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	count := func() (int64, error) {
		var n uint64
		err := conn.QueryRow(ctx, "SELECT count() FROM dwd_events FINAL WHERE toYYYYMM(event_date) = toUInt32(?)", part).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count dwd_events of %s: %w", month, err)
		}
		return int64(n), nil
	}
	want, err := count()
	if err != nil {
		return res, err
	}
	pattern := filepath.Join(opt.Dir, "dwd_events_"+part+"_*.parquet")
	old, err := filepath.Glob(pattern)
	if err != nil {
		return res, fmt.Errorf("archive: %w", err)
	}
	if want == 0 {
		res.Files = old // nothing left in the table (archived and dropped before, or never loaded)
		return res, nil
	}
	for _, path := range old {
		if err := os.Remove(path); err != nil {
			return res, fmt.Errorf("archive: remove the previous archive: %w", err)
		}
	}
	q := chsource.Query{Table: "dwd_events", Final: true, Where: "toYYYYMM(event_date) = toUInt32(?)", WhereArgs: []string{part},
		SplitKey: "region_code", Columns: archiveQueryColumns()}
	shards, err := chsource.Plan(ctx, conn, q, chsource.Options{})
	if err != nil {
		return res, err
	}
	for _, sh := range shards {
		for u := range sh.Units() {
			path := filepath.Join(opt.Dir, fmt.Sprintf("dwd_events_%s_%04d.parquet", part, len(res.Files)))
			n, err := archiveUnit(ctx, conn, q, sh, u, path, opt.RowGroupRows)
			if err != nil {
				return res, err
			}
			res.Files, res.Rows = append(res.Files, path), res.Rows+n
		}
	}
	if again, err := count(); err != nil {
		return res, err
	} else if res.Rows != want || again != want {
		return res, fmt.Errorf("%w: %d rows written for %s, the table had %d, then %d", ErrArchiveIncomplete, res.Rows, month, want, again)
	}
	if opt.Drop && len(res.Files) > 0 {
		// The partition key is toYYYYMM(event_date), a number.
		if err := conn.Exec(ctx, "ALTER TABLE dwd_events DROP PARTITION ?", uint32(m.Year()*100+int(m.Month()))); err != nil {
			return res, fmt.Errorf("drop partition %s of dwd_events: %w", part, err)
		}
		res.Dropped = true
	}
	return res, nil
}

// archiveQueryColumns reads ArchiveColumns from the table (dates and times converted).
func archiveQueryColumns() []chsource.Column {
	cols := make([]chsource.Column, len(ArchiveColumns))
	copy(cols, ArchiveColumns)
	for i, c := range cols {
		switch c.Name {
		case "event_date":
			cols[i].Expr = "toString(event_date)"
		case "event_time", "received_at", "loaded_at":
			cols[i].Expr = "toInt64(" + c.Name + ")"
		}
	}
	return cols
}

// archiveUnit writes one unit's rows to a file (a temporary name, renamed once complete).
func archiveUnit(ctx context.Context, conn driver.Conn, q chsource.Query, sh chsource.Shard, u int64, path string, rowGroup int64) (int64, error) {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	defer f.Close()
	w := parquet.NewGenericWriter[archiveRow](f, parquet.MaxRowsPerRowGroup(rowGroup))
	var werr error
	rows := make([]archiveRow, 0, 8192)
	n, err := chsource.ReadUnit(ctx, conn, q, sh, u, 8192, func(b chsource.Block) {
		if werr != nil {
			return
		}
		rows = rows[:0]
		c := b.Cols
		for i := range b.Len {
			rows = append(rows, archiveRow{EventDate: c[0].Str[i], EventTime: c[1].Int[i], ReceivedAt: c[2].Int[i],
				MessageID: c[3].Str[i], Type: c[4].Str[i], Event: c[5].Str[i], UserID: c[6].Str[i], AnonymousID: c[7].Str[i],
				UserKey: c[8].Str[i], SessionID: c[9].Str[i], RegionCode: c[10].Str[i], ServiceID: int64(c[11].Uint[i]),
				Source: c[12].Str[i], App: c[13].Str[i], OS: c[14].Str[i], Device: c[15].Str[i], Properties: c[16].Str[i],
				LoadedAt: c[17].Int[i]})
		}
		_, werr = w.Write(rows)
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return 0, fmt.Errorf("archive %s: %w", path, err)
	}
	return n, nil
}
