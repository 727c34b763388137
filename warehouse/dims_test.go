package warehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/warehouse"
	"github.com/citypulse/citypulse/warehouse/dimdata"
)

func TestLoadDimensions(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	ctx := testCtx(t)
	svcs, err := dimdata.Services()
	if err != nil {
		t.Fatal(err)
	}
	// An outdated row for service 1, as an older catalogue would have left it: the load must
	// replace it.
	b, err := conn.PrepareBatch(ctx, "INSERT INTO dim_service (service_id, name, category, loaded_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(svcs[0].ID), "旧名称", "其他", time.Now().Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}

	for run := 1; run <= 2; run++ {
		regions, services, err := warehouse.LoadDimensions(ctx, conn, "510100000000")
		if err != nil {
			t.Fatalf("load %d: %v", run, err)
		}
		if regions != 3329 || services != 230 {
			t.Fatalf("load %d: %d regions, %d services, want 3329 and 230", run, regions, services)
		}
	}
	// Exactly one logical row per key, and no physical duplicates either (the second load found
	// identical content and skipped; the first one was optimised).
	for _, q := range []struct {
		sql  string
		want uint64
	}{
		{"SELECT count() FROM dim_region FINAL WHERE city_code = '510100000000'", 3329},
		{"SELECT count() FROM dim_region", 3329},
		{"SELECT uniqExact(code) FROM dim_region", 3329},
		{"SELECT count() FROM dim_region FINAL WHERE level = 'community'", 3047},
		{"SELECT count() FROM dim_service FINAL", 230},
		{"SELECT count() FROM dim_service", 230},
	} {
		if got := queryUint(t, conn, q.sql); got != q.want {
			t.Errorf("%s = %d, want %d", q.sql, got, q.want)
		}
	}

	var name, level, parent, city string
	err = conn.QueryRow(ctx, "SELECT name, level, parent_code, city_code FROM dim_region FINAL WHERE code = '510104000000'").
		Scan(&name, &level, &parent, &city)
	if err != nil {
		t.Fatal(err)
	}
	if name != "锦江区" || level != "district" || parent != "510100000000" || city != "510100000000" {
		t.Errorf("510104000000 = %q %q %q %q, want 锦江区 district 510100000000 510100000000", name, level, parent, city)
	}
	var svcName, category string
	if err := conn.QueryRow(ctx, "SELECT name, category FROM dim_service FINAL WHERE service_id = ?", svcs[0].ID).
		Scan(&svcName, &category); err != nil {
		t.Fatal(err)
	}
	if svcName != svcs[0].Name || category != svcs[0].Category {
		t.Errorf("service %d = %q %q, want %q %q", svcs[0].ID, svcName, category, svcs[0].Name, svcs[0].Category)
	}
}

func TestLoadDimensionsSecondCity(t *testing.T) {
	_, conn := testenv.Warehouse(t)
	ctx := context.Background()
	want := map[string]uint64{}
	for _, city := range []string{"5101", "4110"} {
		regs, err := dimdata.Regions(city)
		if err != nil {
			t.Fatal(err)
		}
		want[regs[0].Code] = uint64(len(regs))
		if _, _, err := warehouse.LoadDimensions(ctx, conn, city); err != nil {
			t.Fatal(err)
		}
	}
	for city, n := range want {
		if got := queryUint(t, conn, "SELECT count() FROM dim_region FINAL WHERE city_code = ?", city); got != n {
			t.Errorf("city %s: %d regions, want %d", city, got, n)
		}
	}
	if _, _, err := warehouse.LoadDimensions(ctx, conn, "9999"); err == nil {
		t.Error("LoadDimensions of an unknown city succeeded")
	}
}
