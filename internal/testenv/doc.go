// Package testenv holds shared test helpers: start or connect the services tests need. Each helper
// takes a testing.TB, gives the test something private to it (a fresh database, a fresh directory)
// and cleans up after it in t.Cleanup. When a service is not configured a test is skipped on a
// developer's machine and fails when CI=true, so CI never passes by skipping. It is imported only
// by tests.
package testenv
