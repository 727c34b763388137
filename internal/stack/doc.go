// Package stack runs the whole local CityPulse stack in one process for `citypulse up`: it applies
// the schema, loads the dimensions, starts the embedded Kafka-protocol broker, the collector, the
// API with the big-screen dashboards and the events pipeline, loads the simulated history once,
// prints the URLs, and keeps a live trickle of simulated traffic flowing until its context ends,
// then stops everything in order. It composes the other packages and holds no logic of theirs.
package stack
