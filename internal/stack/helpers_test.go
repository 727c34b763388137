package stack_test

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/internal/stack"
	"github.com/citypulse/citypulse/warehouse"
)

func openConn(cfg stack.Config) (driver.Conn, error) {
	return warehouse.Open(context.Background(), cfg.Warehouse)
}
