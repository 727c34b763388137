// Package signature authenticates feed requests: it defines the canonical string a source signs
// with HMAC-SHA256, parses and checks the four X-CityPulse-* headers (source, timestamp, nonce,
// signature), verifies a signature against a source's active secrets in constant time, checks the
// replay window and keeps a bounded, expiring in-memory nonce cache. It also signs requests, for
// clients and tests.
//
// Canonical string (lines joined by "\n", no trailing newline):
//
//	CITYPULSE-HMAC-SHA256
//	<HTTP method, upper case>          POST
//	<escaped URL path, no query>       /v1/feeds/person
//	<X-CityPulse-Timestamp>            1767225600 (Unix seconds, decimal)
//	<X-CityPulse-Nonce>                16–128 of [A-Za-z0-9_-], unique per request
//	content-type:<value>               the five SignedHeaders, each "<lower-case name>:<value with
//	content-encoding:<value>           surrounding spaces trimmed>", empty when absent, in this
//	x-citypulse-format:<value>         order: what says how the body is read is signed with it
//	x-citypulse-filename:<value>
//	x-citypulse-standard-version:<value>
//	<hex SHA-256 of the body as sent>  (gzip bytes when Content-Encoding is gzip)
//
// X-CityPulse-Signature is the lower- or upper-case hex HMAC-SHA256 of that string keyed with the
// source's secret. It knows nothing of sources' storage, datasets or bodies: the gateway hands it
// the secrets and the body's digest.
package signature
