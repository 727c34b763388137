// Package chdbtest holds the tests that hold CityPulse's SQL to the current ClickHouse engine as
// well as to the 18.16 server CI runs (ARCHITECTURE.md, docs/clickhouse-compat.md): golden queries
// run on both engines over the same small data with their results compared, and a proof that the
// chDB replay (deploy/chdb) fails on a statement the current engine rejects. The current engine is
// chDB from PyPI in the venv deploy/chdb/chdb.sh installs; without it the tests are skipped, or
// fail when CI=true. It has no code outside its tests and nothing imports it.
package chdbtest
