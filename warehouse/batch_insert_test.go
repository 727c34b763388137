package warehouse_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

// TestBatchWriterBlocksMatchOneBlock writes the same rows, of the Go types the callers pass
// (ingest/feeds, pipelines/cleaning's convert), through the block path and through the one-block
// reference path, and checks that both tables read back the same and both writers rejected the
// same rows.
func TestBatchWriterBlocksMatchOneBlock(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	n := 2*warehouse.InsertBlockRows + 300 // three blocks
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 5, 1, 8, 30, 15, 0, time.UTC)
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name string
		typ  string
		val  func(i int) any // the value of row i
		bad  []int           // rows whose value the type refuses
	}{
		{"string", "String", func(i int) any { return fmt.Sprintf("s-%d", i) }, nil},
		{"string with a number in the middle", "String", func(i int) any {
			if i == n/2 {
				return 42
			}
			return fmt.Sprint(i)
		}, []int{n / 2}},
		{"uint64 with a string in the middle", "UInt64", func(i int) any {
			if i == n/2 || i == n-1 {
				return "not a number"
			}
			return uint64(i)
		}, []int{n / 2, n - 1}},
		{"uint32 given as int", "UInt32", func(i int) any { return i }, nil}, // the driver's conversion, unchecked here
		{"date as time", "Date", func(i int) any { return day.AddDate(0, 0, i%400) }, nil},
		{"date as string", "Date", func(i int) any { return day.AddDate(0, 0, i%400).Format(time.DateOnly) }, nil},
		{"date as a bad string", "Date", func(i int) any {
			if i == 7 {
				return "2024-13-45"
			}
			return "2024-05-01"
		}, []int{7}},
		{"nullable date as *string", "Nullable(Date)", func(i int) any {
			if i%3 == 0 {
				return (*string)(nil)
			}
			return str(day.AddDate(0, 0, i%400).Format(time.DateOnly))
		}, nil},
		{"datetime", "DateTime", func(i int) any { return at.Add(time.Duration(i) * time.Second) }, nil},
		{"nullable datetime with nil pointers", "Nullable(DateTime)", func(i int) any {
			if i%3 == 0 {
				return (*time.Time)(nil)
			}
			v := at.Add(time.Duration(i) * time.Minute)
			return &v
		}, nil},
		{"nullable string", "Nullable(String)", func(i int) any {
			switch i % 3 {
			case 0:
				return (*string)(nil)
			case 1:
				return str(fmt.Sprint(i))
			}
			return fmt.Sprint(i)
		}, nil},
		{"nullable int64 and untyped nil", "Nullable(Int64)", func(i int) any {
			if i%2 == 0 {
				return nil
			}
			v := int64(-i)
			return &v
		}, nil},
		{"nullable float64", "Nullable(Float64)", func(i int) any {
			if i%2 == 0 {
				return (*float64)(nil)
			}
			return float64(i) / 3
		}, nil},
		{"uint8", "UInt8", func(i int) any { return uint8(i % 2) }, nil},
		{"array of strings", "Array(String)", func(i int) any { return []string{"dirty_fixed", fmt.Sprint(i)}[:i%3] }, nil},
		{"array of strings with a string in the middle", "Array(String)", func(i int) any {
			if i == warehouse.InsertBlockRows+1 {
				return "flag"
			}
			return []string{"a"}
		}, []int{warehouse.InsertBlockRows + 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]string
			var rejected [2][]int
			for k, oneBlock := range []bool{false, true} {
				table := fmt.Sprintf("blocks_%d", k)
				mustExec(t, conn, "DROP TABLE IF EXISTS "+table)
				mustExec(t, conn, fmt.Sprintf("CREATE TABLE %s (id UInt32, v %s) ENGINE = MergeTree ORDER BY id", table, tc.typ))
				var mu sync.Mutex
				w := newWriter(t, conn, warehouse.BatchConfig{Table: table, Columns: []string{"id", "v"},
					MaxDelay: time.Hour, OnReject: func(rows [][]any, err error) {
						mu.Lock()
						defer mu.Unlock()
						for _, r := range rows {
							rejected[k] = append(rejected[k], int(r[0].(uint32)))
						}
					}}, nil)
				if oneBlock {
					warehouse.SendAsOneBlockForTest(w)
				}
				for i := range n {
					if err := w.Write(context.Background(), uint32(i), tc.val(i)); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				got[k] = dumpTable(t, conn, table)
				slices.Sort(rejected[k])
			}
			if got[0] != got[1] {
				t.Errorf("blocks and one block differ:\n%.600s\n---\n%.600s", got[0], got[1])
			}
			if !reflect.DeepEqual(rejected[0], tc.bad) || !reflect.DeepEqual(rejected[1], tc.bad) {
				t.Errorf("rejected %v (blocks) and %v (one block), want %v", rejected[0], rejected[1], tc.bad)
			}
			if want := uint64(n - len(tc.bad)); queryUint(t, conn, "SELECT count() FROM blocks_0") != want {
				t.Errorf("count = %d, want %d", queryUint(t, conn, "SELECT count() FROM blocks_0"), want)
			}
		})
	}
}

// dumpTable is table's rows as TSV, in id order, as the server formats them.
func dumpTable(t *testing.T, conn driver.Conn, table string) string {
	t.Helper()
	var s string
	q := "SELECT arrayStringConcat(groupArray(line), '\\n') FROM (SELECT concat(toString(id), '\\t', toString(v)) AS line FROM " +
		table + " ORDER BY id)"
	if err := conn.QueryRow(context.Background(), q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

// TestBatchWriterOnePartPerInsert: an insert sent in several blocks makes one part, as one block
// does (the server squashes them), so blocks add no parts and no merges.
func TestBatchWriterOnePartPerInsert(t *testing.T) {
	cfg, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "one_part"))
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "one_part", MaxDelay: time.Hour}, nil)
	n := 5*warehouse.InsertBlockRows + 1
	writeRows(t, w, 0, n)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, conn, "one_part", n)
	// all parts, merged ones included: several parts merged into one would still count
	if parts := queryUint(t, conn, "SELECT count() FROM system.parts WHERE database = ? AND table = 'one_part'", cfg.Database); parts != 1 {
		t.Errorf("%d parts after one insert of %d blocks, want 1", parts, n/warehouse.InsertBlockRows+1)
	}
}

func TestBatchWriterWriteOwned(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "owned"))
	var rejected [][]any
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "owned", MaxRows: 1000, MaxDelay: time.Hour,
		OnReject: func(rows [][]any, err error) { rejected = append(rejected, rows...) }}, nil)
	n := 3 * warehouse.InsertBlockRows
	bad := []any{"not a number", "bad", batchTime}
	for i := range n {
		row := []any{uint32(i), fmt.Sprintf("row-%d", i), batchTime.Add(time.Duration(i) * time.Second)}
		if i == 1500 {
			if err := w.WriteOwned(context.Background(), bad); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteOwned(context.Background(), row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteOwned(context.Background(), []any{uint32(1)}); err == nil || !strings.Contains(err.Error(), "1 values for 3 columns") {
		t.Errorf("WriteOwned with 1 value for 3 columns = %v", err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkRows(t, conn, "owned", n)
	if len(rejected) != 1 || &rejected[0][0] != &bad[0] {
		t.Errorf("rejected %v, want the bad row itself", rejected)
	}
}
