package community

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// staleAddressSQL finds people whose stated address is stale: the person's (community, address)
// in dwd_person is a house they moved out of per dwd_person_house (a closed relation), and not
// one they live in (no open relation there). It also gives where they live now (their open
// relation; empty when none is known).
//
// It is this test's oracle only: no product query finds stale addresses yet. Its place is a
// quality rule (quality/, issue 6: consistency of person and person_house), or a listing beside
// review.Compare. Written for ClickHouse 18.16: tuple IN instead of a multi-column JOIN, and
// the join on one column with USING.
const staleAddressSQL = `
SELECT batch_id, row_no, now_region, now_address
FROM (
    SELECT batch_id, row_no, id_card_hash
    FROM dwd_person FINAL
    WHERE (id_card_hash, region_code, address) IN
          (SELECT id_card_hash, region_code, address FROM dwd_person_house FINAL WHERE isNotNull(move_out_date))
      AND (id_card_hash, region_code, address) NOT IN
          (SELECT id_card_hash, region_code, address FROM dwd_person_house FINAL WHERE isNull(move_out_date))
) AS p
ANY LEFT JOIN (
    SELECT id_card_hash, region_code AS now_region, address AS now_address
    FROM dwd_person_house FINAL
    WHERE isNull(move_out_date)
) AS h USING id_card_hash`

// staleFound is one person row the oracle reports, with where the person lives now.
type staleFound struct {
	rowKey
	Region, Address string
}

// findStale runs staleAddressSQL.
func findStale(tb testing.TB, conn driver.Conn, bs batches) []staleFound {
	tb.Helper()
	rows, err := conn.Query(context.Background(), staleAddressSQL)
	if err != nil {
		tb.Fatalf("stale addresses: %v", err)
	}
	defer rows.Close()
	var out []staleFound
	for rows.Next() {
		var batch string
		var row uint64
		var f staleFound
		if err := rows.Scan(&batch, &row, &f.Region, &f.Address); err != nil {
			tb.Fatal(err)
		}
		f.rowKey = bs.key(batch, row)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}
