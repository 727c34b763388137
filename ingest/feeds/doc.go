// Package feeds is the feeds gateway (数据归集 / 数据交换网关 / 社区基础数采集工具): departments and
// community offices push rows (POST /v1/feeds/{dataset}: CSV or JSON lines) or upload files
// (POST /v1/feeds/{dataset}/files: CSV in UTF-8 or GBK/GB18030, JSON lines, Parquet, Arrow IPC),
// each request signed with HMAC-SHA256 (package signature). It owns the sources (id, name, kind,
// region, up to two active secrets, the datasets each may send with its column → standard field
// mapping) and the usage log of exchanged data in the metadata store (Store), and the
// ods_feed_records / ods_feed_batches rows in ClickHouse.
//
// A request is spooled to a temporary file while its SHA-256 is computed (the signature covers
// the body, and Parquet and Arrow files need random access), verified, then read row by row
// (package formats) with flat memory. Every batch gets a ULID, a usage-log entry before any data
// moves, and a manifest (rows in / accepted / rejected with the reasons the gateway itself found:
// wrong column count, bad encoding, not a JSON object). Each accepted row goes to Kafka topic
// citypulse.feeds.<dataset>.v1 as a feedrecord.Record (after mapping) and, raw, to
// ods_feed_records through a warehouse.BatchWriter; the answer waits for both, so 200 means the
// batch is stored. Raw rows are written here rather than by a later Kafka consumer because the
// gateway already holds them and it keeps the ods table exactly the set of acknowledged batches
// without another moving part; a batch that fails half way is answered 503 and re-sent, and the
// cleaning pipeline's identity keys make the re-send harmless.
//
// Replay protection: timestamps outside ±ReplayWindow are refused; nonces are kept in a bounded
// in-memory cache and, with SharedNonces (the default), in the metadata store's feed_nonces table,
// whose primary key makes a nonce usable once across every replica sharing the store.
//
// Administration: with feeds-admin-token set, operators manage sources over HTTP under /v1/admin/
// (bearer token; list, create or replace a source with its mappings, issue a key — the secret is
// shown in that answer only —, revoke a key, read the usage log), besides the `citypulse source`
// CLI. Source kinds: department, community, reference; the kind travels on every record, and the
// cleaning pipeline routes on it (a department's move-in/out become change requests; a reference
// feed is compared, never loaded).
//
// It must not validate values against the data standard, clean, or de-duplicate: that is the
// cleaning pipeline's job. It never logs secrets or row contents.
package feeds
