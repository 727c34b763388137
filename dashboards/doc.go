// Package dashboards serves CityPulse's big-screen pages: /dashboard?region=<code> is a dark
// 16:9 screen of number tiles, a daily trend, the top services and a per-child-region breakdown
// that drills down on click, built with go-echarts and served with its own embedded assets
// (ECharts from the npm package, never a CDN). The page is static: the browser's live.js pulls
// /api/v1/overview from the apiserver at load and every few seconds. The package talks to no
// database and imports no API code; the binary mounts its handler beside the API.
package dashboards
