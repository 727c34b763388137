package testenv

import (
	"strings"
	"testing"

	"github.com/citypulse/citypulse/warehouse"
)

func TestDatabaseName(t *testing.T) {
	tests := []struct{ testName, prefix string }{
		{"TestMigrate", "test_testmigrate_"},
		{"TestLoad/sub-case_2", "test_testload_sub_case_2_"},
		{"Test区域`; DROP", "test_testdrop_"},
		{"TestAVeryLongNameThatGoesOnAndOn", "test_testaverylongnamethatgoe_"},
	}
	for _, tt := range tests {
		got := UniqueName(tt.testName)
		if !strings.HasPrefix(got, tt.prefix) || len(got) != len(tt.prefix)+8 || !warehouse.ValidDatabaseName(got) {
			t.Errorf("UniqueName(%q) = %q, want %s<8 hex>, a valid name", tt.testName, got, tt.prefix)
		}
	}
	if UniqueName("TestX") == UniqueName("TestX") {
		t.Error("two calls gave the same name")
	}
}

func TestWarehouse(t *testing.T) {
	cfg, conn := Warehouse(t)
	var n uint64
	if err := conn.QueryRow(t.Context(), "SELECT count() FROM system.tables WHERE database = ? AND name = 'dwd_events'", cfg.Database).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("dwd_events missing from %s", cfg.Database)
	}
}
