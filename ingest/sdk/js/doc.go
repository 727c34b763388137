// Package js holds the CityPulse JavaScript tracking SDK for H5 and web pages and its browser
// tests; it has no Go API.
//
// The SDK is TypeScript in src/, type-checked with tsc and bundled with esbuild (exact versions in
// package.json and package-lock.json): `npm ci && npm run build` in this directory (`make
// sdk-js`) writes dist/citypulse.min.js, a minified IIFE that defines window.citypulse and has no
// runtime dependencies, dist/citypulse.esm.js, an ES module with the same exports, and
// dist/types/*.d.ts. dist/ and node_modules/ are not committed.
//
// A page loads the file and calls citypulse.init(writeKey, collectorURL, options); then
// track(event, properties), page(name, properties), identify(userId, traits), alias(userId,
// previousId), reset(), flush() and setConsent(bool). The SDK sends Segment-spec events in
// batches to <collector>/v1/batch with the write key as HTTP Basic username (in the body for
// navigator.sendBeacon, which cannot set headers), gzips batches over 1 KiB with
// CompressionStream where the browser has it (never beacons, which cannot say so), keeps unsent
// events in localStorage across reloads, retries with exponential backoff and jitter on network
// errors, 408, 429 and 5xx, and drops (counting) batches the collector refuses with another 4xx.
// See src/client.ts for every option and docs/tracking.md for the event model.
//
// The tests load the built files in headless Chromium (internal/testenv.Chromium) from a page
// served on another origin than the collector, and follow the events through the real collector,
// the embedded broker and the events pipeline into ClickHouse. Without dist/ they skip, or fail
// when CI=true. This package must not hold product Go code: servers track with the Go SDK.
package js
