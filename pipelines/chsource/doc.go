// Package chsource is the ClickHouse source of CityPulse's Beam batch pipelines: it reads the rows
// of one query over one table as a bounded, splittable read, so a batch job scales past one
// machine. A Query names the table, the columns (expressions with a Kind), a filter, whether to
// read FINAL, an optional GROUP BY/HAVING, and a split key (a String expression, best the leading
// column of the table's sorting key that varies under the filter). Plan cuts the rows the filter
// selects by partition (_partition_id) and by ranges of the split key into units of about
// Options.UnitRows rows; Read emits one Shard per partition whose restriction is a range of its
// units (offsetrange), split initially into pieces of about Options.SplitRows rows and
// dynamically by the runner. Each unit is one query, claimed whole, so every row is read exactly
// once however the restrictions are split; the first unit of a partition has no lower bound and
// the last no upper one, so rows that arrive between planning and reading are read too, as long
// as their partition existed when planned. Rows come out in columnar Blocks (with their own
// Beam coder); Plan and ReadUnit serve callers outside a pipeline.
//
// ReadParquet reads Parquet files (such as pipelines/offline's archives of cold partitions) into
// the same Blocks: one shard per file, its row groups the units.
//
// It reads with clickhouse-go over the native protocol and parquet-go, and knows nothing of any
// table's meaning; it never writes (pipelines/chsink does).
package chsource
