// Package segmentcompat holds no code, only a test: it proves that an off-the-shelf Segment
// SDK (github.com/segmentio/analytics-go/v3), configured with nothing but CityPulse's collector
// URL as its Endpoint and a CityPulse write key, delivers track, page, screen, identify and
// alias calls that the collector accepts and the events pipeline stores with the right fields.
// It must not contain adapters or shims: if the off-the-shelf client needs one, the collector
// has broken Segment compatibility and that is the bug to fix. docs/tracking.md says how to
// point Segment and RudderStack SDKs on other platforms at CityPulse.
package segmentcompat
