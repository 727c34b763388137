// Package clientstest holds the tests that run off-the-shelf outside clients, unmodified,
// against what CityPulse serves and writes: Segment's own Python library
// (segment-analytics-python) and Java library (com.segment.analytics.java:analytics), configured
// with nothing but the collector's URL and a write key, send track, page, screen, identify and
// alias calls through the real collector, broker and events pipeline, and the rows are checked in
// ClickHouse; and clickhouse-driver, the Python ClickHouse client analysts use, reads dwd_events,
// dws_region_service_daily and the analyst view v_dwd_person, and must read exactly what our Go
// code reads. The clients and our small drivers that call them live in deploy/clients
// (installed into var/clients by deploy/clients/install.sh, versions pinned there); the tests
// skip when they are not installed, and fail when CI=true. If a client needs a shim to work,
// the collector or the warehouse has broken compatibility: that is the bug to fix, here there
// are no adapters. It is test-only: it exports nothing and nothing imports it.
package clientstest
