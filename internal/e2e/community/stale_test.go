package community

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse/review"
)

// staleFound is one person row the product reports as living elsewhere than stated, with where
// the person lives now.
type staleFound struct {
	rowKey
	Region, Address string
}

// findStale reads every page of the product's stale-address listing (review.StaleAddresses,
// served as GET /api/v1/community/stale-addresses), small pages so that paging is exercised;
// the scorer compares it with the stale addresses the simulator planted.
func findStale(tb testing.TB, conn driver.Conn, bs batches) []staleFound {
	tb.Helper()
	svc, err := review.New(conn, review.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []staleFound
	q := review.StaleQuery{Limit: 7}
	for pages := 0; ; pages++ {
		list, err := svc.StaleAddresses(context.Background(), q)
		if err != nil {
			tb.Fatalf("stale addresses: %v", err)
		}
		for _, a := range list.Rows {
			out = append(out, staleFound{rowKey: bs.key(a.BatchID, a.RowNo), Region: a.CurrentRegionCode, Address: a.CurrentAddress})
		}
		if list.Next == "" {
			if uint64(len(out)) != list.Total {
				tb.Fatalf("stale addresses: %d listed over %d pages, total says %d", len(out), pages+1, list.Total)
			}
			return out
		}
		q.After = list.Next
	}
}
