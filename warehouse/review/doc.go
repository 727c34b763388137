// Package review is the community data update service (社区数据更新服务): departments' changes to
// community data (move-in, move-out, corrections) become change requests that a community worker
// approves or rejects, and a reference feed is compared field by field with the clean data.
//
// The cleaning pipeline (pipelines/cleaning) does not write a department's person_house rows, nor
// any reference source's rows, into dwd_<dataset>: it stages them in ods_staged_rows (purpose
// 'change' or 'reference'), each with the exact dwd row it would have written (as JSON strings)
// and a request id stable across re-reads. This package reads them:
//
//   - List and Get show pending change requests (staged 'change' rows without a row in
//     ods_change_decisions), each with its kind — move_in (no current dwd row for the identity),
//     move_out (the proposed row closes the relation: a closing column such as
//     person_house.move_out_date is set, and the current row's is not), update (otherwise) — and
//     the field-level diff against the current dwd_<dataset> row (FINAL), leaving out the lineage
//     columns (source, batch_id, row_no, quality_flags, received_at, version) and identity_key.
//   - Approve writes the proposed row into dwd_<dataset>, typed by the table's column types read
//     from system.columns, with the staged received_at, source and batch_id and version = the
//     approval time in Unix ms (so it wins over the rows before it), then records the decision.
//     The dwd row is written before the decision: if recording fails, the request stays
//     pending and approving again rewrites the same row. Reject records a decision with a
//     required comment. Deciding again the same way answers the
//     recorded decision; deciding the other way is ErrConflict.
//   - Compare lists, for one reference batch or source, the reference records whose identity is
//     in dwd but whose fields differ (current vs reference), the reference records missing from
//     dwd and, on request, the dwd records (of a region) missing from the reference.
//   - StaleAddresses lists the people whose address in dwd_person is a house dwd_person_house
//     says they moved out of (a closed relation there, no open one), with where they live now:
//     the consistency check between the two tables, for the community to correct.
//
// Reviewers: there are no user accounts yet (apiserver only requires its operator token for
// decisions). Every decision names a reviewer, a string the API caller supplies (apiserver takes it from the X-CityPulse-Reviewer header or the body's
// "reviewer" field) and that this package records as given, after checking its form only. When
// authentication arrives, the reviewer must come from the authenticated user instead.
//
// Concurrency: decisions on one request are serialised inside one Service (one API process).
// Two processes deciding the same request at the same instant could both write; ClickHouse has
// no transactions to prevent it, so the API runs as one process until a metadata-store lock
// replaces the in-process one.
//
// It owns ods_change_decisions (warehouse/migrations/0008_review.sql) and writes dwd_<dataset>
// rows only on approval. It does not clean or validate values against the data standard (the
// staged row is already clean), does not stage rows (the cleaning pipeline does), and knows
// nothing of HTTP: apiserver adapts it.
package review
