// Package apiserver is CityPulse's thin HTTP API over the warehouse: it answers the dashboard's
// chart data (GET /api/v1/overview, GET /api/v1/regions) from dws_region_service_daily and the
// dimension tables, scoped to one region by code prefix; the tracking-plan violation report (GET
// /api/v1/tracking/violations) from ods_bad_events; the community review of departments' change
// requests and reference-feed comparison (/api/v1/community/changes, …/{id}/approve|reject,
// /api/v1/community/compare, through warehouse/review — approving writes dwd_<dataset> and
// ods_change_decisions, the only writes of this server to the warehouse); when MountJobs is given
// a scheduler, the job API (/api/v1/jobs…, /api/v1/runs/{id}: list, trigger, backfill, cancel,
// history, whose POSTs enqueue or cancel runs in the metadata store) and the /jobs status page; and /healthz, /readyz and
// /metrics with per-route request metrics and structured request logs. Every request that is not
// GET, HEAD or OPTIONS (plan apply, review decisions, job trigger, backfill and cancel) must carry
// "Authorization: Bearer <api-admin-token>"; a server without that token refuses writes. Region scoping lives here
// in the query layer (ClickHouse 18.16 ignores row policies); user input reaches SQL only as
// parameters. It owns no tables, and it does not import the
// pages that use it: Run mounts any extra handlers (the dashboards) its caller passes in.
package apiserver
