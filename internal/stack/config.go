package stack

import (
	"github.com/citypulse/citypulse/apiserver"
	"github.com/citypulse/citypulse/dashboards"
	"github.com/citypulse/citypulse/ingest/collector"
	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/ingest/plan"
	"github.com/citypulse/citypulse/ingest/simulate"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/minute"
	"github.com/citypulse/citypulse/pipelines/scheduler"
	"github.com/citypulse/citypulse/pipelines/scheduler/stdjobs"
	"github.com/citypulse/citypulse/warehouse"
)

// Config is the whole stack's configuration: every section's settings plus what `up` itself does.
type Config struct {
	Warehouse  warehouse.Config
	Bus        bus.Config
	Collector  collector.Config
	Feeds      feeds.Config
	API        apiserver.Config
	Dashboards dashboards.Config
	Pipeline   pipelines.Config
	Simulate   simulate.Config
	Meta       metastore.Config
	Plan       plan.Config
	Scheduler  scheduler.Config
	Minute     minute.Config
	Jobs       stdjobs.Config
	Offline    stdjobs.OfflineConfig

	// PlanFile, when set, is a tracking plan applied on start (a new version only when it changed).
	PlanFile string `flag:"plan-file" help:"tracking plan YAML applied on start (empty: keep the stored plan)"`

	// StateDir holds the stack's local state (the broker's data, markers of loaded history).
	StateDir string `flag:"state-dir" help:"directory of the local stack's state"`
	// History loads the simulated history once (skipped when already loaded with the same settings).
	History bool `flag:"history" help:"load the simulated history on start (once per settings and day)"`
	// Trickle keeps live simulated traffic flowing.
	Trickle bool `flag:"trickle" help:"keep a live trickle of simulated traffic flowing"`
}

// DefaultConfig returns the local stack's defaults.
func DefaultConfig() Config {
	c := Config{
		Warehouse:  warehouse.DefaultConfig(),
		Bus:        bus.DefaultConfig(),
		Collector:  collector.DefaultConfig(),
		Feeds:      feeds.DefaultConfig(),
		API:        apiserver.DefaultConfig(),
		Dashboards: dashboards.DefaultConfig(),
		Pipeline:   pipelines.DefaultConfig(),
		Simulate:   simulate.DefaultConfig(),
		Meta:       metastore.DefaultConfig(),
		Plan:       plan.DefaultConfig(),
		Scheduler:  scheduler.DefaultConfig(),
		Minute:     minute.DefaultConfig(),
		Jobs:       stdjobs.DefaultConfig(),
		Offline:    stdjobs.DefaultOfflineConfig(),
		StateDir:   "var",
		History:    true,
		Trickle:    true,
	}
	c.Bus.DataDir = "var/kafka"
	return c
}
