package review

import (
	"context"
	"fmt"
)

// StaleQuery selects the people whose stated address is stale.
type StaleQuery struct {
	// Region, a region code prefix, keeps the people whose stated address lies in it.
	Region string
	// After is the Next of the previous page (an identity key).
	After string
	// Limit is the page size: 0 means DefaultLimit; at most MaxLimit.
	Limit int
}

// StaleAddress is a person (dwd_person) whose stated address is a house they moved out of
// (dwd_person_house has a closed relation there and no open one), with where they live now
// when an open relation says so.
type StaleAddress struct {
	IdentityKey  string `json:"identity_key"`
	IDCardMasked string `json:"id_card_masked"`
	Name         string `json:"name"`
	RegionCode   string `json:"region_code"`
	Address      string `json:"address"`
	Source       string `json:"source"`
	BatchID      string `json:"batch_id"`
	RowNo        uint64 `json:"row_no"`
	// CurrentRegionCode and CurrentAddress are an open relation's ("" when none is known).
	CurrentRegionCode string `json:"current_region_code"`
	CurrentAddress    string `json:"current_address"`
}

// StaleList is one page of stale addresses, in identity-key order, and how many the whole
// selection holds.
type StaleList struct {
	Region string         `json:"region"`
	Total  uint64         `json:"total"`
	Rows   []StaleAddress `json:"rows"`
	// Next is the After of the following page; "" on the last.
	Next string `json:"next"`
}

// staleWhere selects dwd_person rows (FINAL) whose (resident, community, address) has a closed
// relation in dwd_person_house and no open one. Written for ClickHouse 18.16: tuple IN rather
// than a multi-column JOIN (and the join below on one column with USING, its subqueries
// aliased as current ClickHouse requires).
const staleWhere = ` WHERE startsWith(region_code, ?)
  AND (id_card_hash, region_code, address) IN
      (SELECT id_card_hash, region_code, address FROM dwd_person_house FINAL WHERE isNotNull(move_out_date))
  AND (id_card_hash, region_code, address) NOT IN
      (SELECT id_card_hash, region_code, address FROM dwd_person_house FINAL WHERE isNull(move_out_date))`

// StaleAddresses lists people whose address in dwd_person is a house dwd_person_house says they
// left (a department's move-out approved or a community's own record), so that the community
// can correct them; it is the consistency check between the two tables. The page's rows carry
// where the person lives now when an open relation is known (any one of them).
func (s *Service) StaleAddresses(ctx context.Context, q StaleQuery) (*StaleList, error) {
	limit, err := checkLimit(q.Limit)
	if err != nil {
		return nil, err
	}
	switch {
	case q.Region != "" && !validPrefix(q.Region):
		return nil, invalid("region", "%q: want a region code prefix of 1 to 12 digits", truncate(q.Region, 40))
	case len(q.After) > 256:
		return nil, invalid("after", "not a page cursor: use the next value of the previous page")
	}
	out := &StaleList{Region: q.Region, Rows: []StaleAddress{}}
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM dwd_person FINAL`+staleWhere, q.Region).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("count stale addresses: %w", err)
	}
	rows, err := s.conn.Query(ctx, `
SELECT identity_key, id_card_masked, name, region_code, address, source, batch_id, row_no, now_region, now_address
FROM (
    SELECT identity_key, id_card_hash, id_card_masked, name, region_code, address, source, batch_id, row_no
    FROM dwd_person FINAL`+staleWhere+` AND identity_key > ?
    ORDER BY identity_key LIMIT ?
) AS p ANY LEFT JOIN (
    SELECT id_card_hash, region_code AS now_region, address AS now_address
    FROM dwd_person_house FINAL WHERE isNull(move_out_date)
) AS h USING id_card_hash
ORDER BY identity_key`, q.Region, q.After, uint64(limit+1))
	if err != nil {
		return nil, fmt.Errorf("list stale addresses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a StaleAddress
		if err := rows.Scan(&a.IdentityKey, &a.IDCardMasked, &a.Name, &a.RegionCode, &a.Address, &a.Source, &a.BatchID, &a.RowNo,
			&a.CurrentRegionCode, &a.CurrentAddress); err != nil {
			return nil, fmt.Errorf("list stale addresses: %w", err)
		}
		out.Rows = append(out.Rows, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stale addresses: %w", err)
	}
	if len(out.Rows) > limit {
		out.Rows = out.Rows[:limit]
		out.Next = out.Rows[limit-1].IdentityKey
	}
	if q.Region == "" {
		s.metrics.stale.Set(float64(out.Total))
	}
	return out, nil
}
