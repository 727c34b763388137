package chsource

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/citypulse/citypulse/warehouse"
)

func TestExpReadFloor(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	ctx := context.Background()
	cfg := warehouse.DefaultConfig()
	cfg.Addr, cfg.Database = "127.0.0.1:19000", os.Getenv("EXP")
	conn, _ := warehouse.Open(ctx, cfg)
	for _, final := range []bool{true, false} {
		q := Query{Table: "dwd_events", Final: final, Where: "event_date = toDate(?)", WhereArgs: []string{os.Getenv("EXP_DAY")}, SplitKey: "region_code",
			Columns: []Column{{Name: "user_key"}, {Name: "r", Expr: "user_id != ''", Kind: Uint}, {Name: "s", Expr: "cityHash64(session_id)", Kind: Uint},
				{Name: "v", Expr: "type IN ('page','screen')", Kind: Uint}, {Name: "event_time", Kind: Int}, {Name: "service_id", Kind: Uint}, {Name: "region_code"}}}
		start := time.Now()
		shards, err := Plan(ctx, conn, q, Options{}.withDefaults())
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("plan %s, %d units", time.Since(start), shards[0].Units())
		start = time.Now()
		var n int64
		for u := range shards[0].Units() {
			m, err := ReadUnit(ctx, conn, q, shards[0], u, 8192, func(Block) {})
			if err != nil {
				t.Fatal(err)
			}
			n += m
		}
		t.Logf("final=%v read %d rows in %s", final, n, time.Since(start))
	}
}
