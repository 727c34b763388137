// Package apitest seeds a test warehouse with a small, hand-checked set of app events for the
// API and dashboard tests: a few communities of two Chengdu districts over several days, with a
// gap day and a re-delivered event. It exists so that the apiserver and dashboards tests check
// the same numbers; only tests import it, and it never touches a database it was not given.
package apitest
