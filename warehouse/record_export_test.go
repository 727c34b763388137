package warehouse

import (
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// BindLiteralForTest exposes the recorder's parameter binding to the external tests.
func BindLiteralForTest(tz *time.Location, v any) (string, error) {
	return bindLiteral(tz, clickhouse.Seconds, v, false)
}

// NormalizeDatabaseForTest exposes the recorder's database normalisation.
var NormalizeDatabaseForTest = normalizeDatabase
