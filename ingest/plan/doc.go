// Package plan is the tracking plan (埋点规则管理): the rules saying which events the city's apps
// may send, on which apps, with which properties of which types (objects and arrays described
// field by field and element by element, nesting up to MaxDepth levels), and what happens to
// events the plan does not know (allow, flag or reject). It owns the plan's model and its
// YAML/JSON file format with validation that names the path of every error (Parse), the
// versioned history of applied plans in the metadata store (Store), the compiled per-event
// checker the collector runs on every event (Compile, Checker.Check), the Watcher that
// hot-swaps the checker when a new version is applied, the management HTTP API (Handler) and
// the functions behind `citypulse plan apply|show` (ApplyFile, Diff, WriteSummary).
//
// It must not do I/O on the event path: Check reads only the compiled plan and the event, and
// returns a verdict; sending rejected events to the dead-letter topic is the collector's job.
package plan
