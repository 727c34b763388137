package community

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	sim "github.com/citypulse/citypulse/ingest/simulate/community"
	"github.com/citypulse/citypulse/pipelines/cleaning"
)

// quarantined is one ods_feed_quarantine row, mapped back to its generated record.
type quarantined struct {
	fieldKey
	Code, Detail string
}

// batches maps a gateway batch id to the file it uploaded.
type batches map[string]sim.FileInfo

// key maps a warehouse row's batch and row number to the generated record ("" source when the
// batch is none of the city's).
func (b batches) key(batch string, row uint64) rowKey {
	f, ok := b[batch]
	if !ok {
		return rowKey{}
	}
	return rowKey{f.Source, f.Dataset, int(row)}
}

// readQuarantine reads ods_feed_quarantine FINAL; rows of batches other than bs' are an error.
func readQuarantine(tb testing.TB, conn driver.Conn, bs batches) []quarantined {
	tb.Helper()
	rows, err := conn.Query(context.Background(), `SELECT dataset, batch_id, row_no, field, code, detail FROM ods_feed_quarantine FINAL`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []quarantined
	for rows.Next() {
		var ds, batch, field, code, detail string
		var row uint64
		if err := rows.Scan(&ds, &batch, &row, &field, &code, &detail); err != nil {
			tb.Fatal(err)
		}
		k := bs.key(batch, row)
		if k.Source == "" || k.Dataset != ds {
			tb.Errorf("quarantine row of an unknown batch %s (%s row %d %s/%s)", batch, ds, row, field, code)
			continue
		}
		out = append(out, quarantined{fieldKey{k, field}, code, detail})
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// dwdRow is one dwd_<dataset> FINAL row, mapped back to its generated record.
type dwdRow struct {
	rowKey
	IdentityKey string
	Dirty       bool // quality_flags has dirty_fixed
}

// readDWD reads a dataset's dwd table FINAL.
func readDWD(tb testing.TB, conn driver.Conn, bs batches, dataset string) []dwdRow {
	tb.Helper()
	table := cleaning.Specs[dataset].Table
	rows, err := conn.Query(context.Background(), `SELECT identity_key, batch_id, row_no, has(quality_flags, ?) FROM `+table+` FINAL`, cleaning.FlagDirtyFixed)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []dwdRow
	for rows.Next() {
		var r dwdRow
		var batch string
		var row uint64
		var dirty uint8
		if err := rows.Scan(&r.IdentityKey, &batch, &row, &dirty); err != nil {
			tb.Fatal(err)
		}
		r.rowKey, r.Dirty = bs.key(batch, row), dirty == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// lineage are the columns that say which delivery a row came from; a re-sent batch renews them.
var lineage = map[string]bool{"batch_id": true, "received_at": true, "version": true}

// tableSum is a table's FINAL row count and an order-free checksum of its rows.
type tableSum struct {
	Rows uint64
	Sum  uint64
}

// textColumns lists a table's columns and, for each, an expression of its value as text (NULL
// for NULL, arrays joined with commas).
func textColumns(tb testing.TB, conn driver.Conn, table string) (names, exprs []string) {
	tb.Helper()
	rows, err := conn.Query(context.Background(), `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ? ORDER BY name`, table)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			tb.Fatal(err)
		}
		names = append(names, name)
		if strings.HasPrefix(typ, "Array(") {
			exprs = append(exprs, fmt.Sprintf("arrayStringConcat(%s, ',')", name))
		} else {
			exprs = append(exprs, fmt.Sprintf("ifNull(toString(%s), 'NULL')", name))
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(names) == 0 {
		tb.Fatalf("%s: no columns", table)
	}
	return names, exprs
}

// checksum counts a table's FINAL rows and sums cityHash64 over each row's columns as text,
// leaving out the lineage columns (the newest delivery's batch id and receive time).
func checksum(tb testing.TB, conn driver.Conn, table string) tableSum {
	tb.Helper()
	names, exprs := textColumns(tb, conn, table)
	var cols []string
	for i, n := range names {
		if !lineage[n] {
			cols = append(cols, exprs[i])
		}
	}
	var s tableSum
	q := `SELECT count(), sum(cityHash64(concat(` + strings.Join(cols, ", '\\x1f', ") + `))) FROM ` + table + ` FINAL`
	if err := conn.QueryRow(context.Background(), q).Scan(&s.Rows, &s.Sum); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return s
}

// checksums returns checksum of every dwd table of the cleaning pipeline, by dataset.
func checksums(tb testing.TB, conn driver.Conn) map[string]tableSum {
	tb.Helper()
	out := map[string]tableSum{}
	for _, ds := range slices.Sorted(maps.Keys(cleaning.Specs)) {
		out[ds] = checksum(tb, conn, cleaning.Specs[ds].Table)
	}
	return out
}

// count runs a count query.
func count(tb testing.TB, conn driver.Conn, q string, args ...any) uint64 {
	tb.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}
