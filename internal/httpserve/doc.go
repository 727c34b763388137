// Package httpserve runs an http.Handler on an address until its context ends, then shuts down
// gracefully: it stops accepting, lets in-flight requests finish within a deadline, and returns.
// It also provides the JSON error shape every CityPulse server answers with and the bearer-token
// check of operator endpoints. It owns no routes.
package httpserve
