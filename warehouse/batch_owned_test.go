package warehouse_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
)

// TestBatchWriterWriteOwned: rows handed over are inserted as they are, a refused one reaches
// OnReject itself (not a copy), and a row of the wrong width is refused at once.
func TestBatchWriterWriteOwned(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	mustExec(t, conn, fmt.Sprintf(batchTableDDL, "owned"))
	var rejected [][]any
	w := newWriter(t, conn, warehouse.BatchConfig{Table: "owned", MaxRows: 1000, MaxDelay: time.Hour,
		OnReject: func(rows [][]any, err error) { rejected = append(rejected, rows...) }}, nil)
	n := 3000
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
