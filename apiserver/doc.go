// Package apiserver is CityPulse's thin HTTP API over the warehouse: it answers the dashboard's
// chart data (GET /api/v1/overview, GET /api/v1/regions) from dws_region_service_daily and the
// dimension tables, scoped to one region by code prefix; the tracking-plan violation report (GET
// /api/v1/tracking/violations) from ods_bad_events; and /healthz, /readyz and
// /metrics with per-route request metrics and structured request logs. Region scoping lives here
// in the query layer (ClickHouse 18.16 ignores row policies); user input reaches SQL only as
// parameters. It owns no tables and writes nothing to the warehouse, and it does not import the
// pages that use it: Run mounts any extra handlers (the dashboards) its caller passes in.
package apiserver
