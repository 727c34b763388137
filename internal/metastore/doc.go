// Package metastore is CityPulse's metadata store: the small relational database that holds what
// people configure (tracking plans, write keys, tag definitions, quality rules, saved queries,
// users, approvals, job runs), as opposed to the facts in ClickHouse. It opens a SQLite file
// (modernc.org/sqlite, pure Go; WAL, busy timeout, foreign keys) or a PostgreSQL database (pgx
// through database/sql) from one DSN, and applies versioned schema migrations once, recording
// them, serialised across processes.
//
// It owns no business tables: each package that keeps data here declares a Schema (its name and
// an fs.FS of numbered .sql files, portable or per dialect) and calls Store.Migrate from its own
// constructor, then writes portable SQL with $1, $2… placeholders, which both drivers accept.
// It must not know any package's tables, and it must not be used for event data.
package metastore
