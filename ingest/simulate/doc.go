// Package simulate is the city simulator: it invents residents living in the real communities of
// a city (warehouse/dimdata) and sends what they do in the citizen-services app to the collector
// over HTTP, exactly as the app's tracking SDKs would — Segment-spec messages posted to
// <collector>/v1/batch with HTTP Basic auth (write key as user name, empty password). History
// loads a reproducible past (the same config and end date always give the same events and message
// ids, so reloading is idempotent downstream); Trickle sends live traffic; ProgressBar draws a
// terminal progress line. It must not write to Kafka or ClickHouse, nor reach around the
// collector: its only output is HTTP requests. It streams: memory holds the residents and a few
// batches, never the whole history.
//
// # Model
//
// The city's fixed features do not depend on the seed. Districts fall into tiers by code and name
// (core 市辖区, suburban 市辖区 and development zones, 县级市, 县); a tier sets how many residents a
// community holds (core communities are about five times a county's, each community varying
// log-normally), how active its residents are, and which service categories it leans to (core:
// 交通出行, 文体旅游, 就业人才; counties: 社保医保, 社区服务, 生活服务), plus a fixed random tilt per
// district. The 230 services are ranked by category weight times a fixed random draw and given
// Zipf weights (rank^-ZipfExponent), so a few services take most use. On weekends a category's
// weight is multiplied by its weekend factor: 社保/公积金/政务 fall to a third, 文体旅游 more than
// doubles.
//
// Each resident (drawn from the seed and their index) has a home community, an age group and
// gender, two favourite categories (age-tilted), a daily activity probability (HeavyUserShare are
// heavy users, the rest light), one or two devices (Android, iOS, WeChat mini-program, H5, with
// realistic shares tilted by age; context.os, device, app, library), an anonymousId per device,
// and, for RegisteredShare of them, a userId; each device is logged in before the window, logs in
// during it, or stays anonymous. On an active day a resident has one or more sessions whose start
// hours follow a daily rhythm (morning and evening peaks, little at night; later mornings at
// weekends). A session sends identify (first session of a logged-in device, then occasionally),
// then for each service visited: sometimes a search (track "search"), a view (screen on native
// apps, page on mini-program/H5; name = service name), usually service_open and then often
// service_complete. Every event carries context.region_code (the home community),
// context.session_id and, except identify, properties.service_id. The rates are the named
// constants of model.go; the defaults give about 250,000 events for 10,000 residents over 14
// days.
package simulate
