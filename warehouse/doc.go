// Package warehouse is CityPulse's only door to ClickHouse: it opens native-protocol connections
// (Open), applies the embedded, versioned schema migrations exactly once even when several processes
// start together (Migrate), loads the dimension tables from the embedded dimension data
// (LoadDimensions), buffers and retries the pipelines' row inserts (BatchWriter) and recomputes the
// daily aggregates (RefreshDaily). Every statement it sends must run on ClickHouse 18.16 and on
// current ClickHouse. It quotes identifiers with QuoteIdent and passes values only as parameters. It
// owns no business rules: what a row means is decided by the packages that write and read it, and
// it never imports them.
package warehouse
