// Package config maps configuration structs onto command-line flags and CITYPULSE_* environment
// variables. Each package owns its own Config struct with a Default…() constructor; fields carry a
// `flag:"name"` tag and a `help:"…"` tag. Bind registers one flag per tagged field, with the
// environment variable CITYPULSE_<NAME> (dashes become underscores) overriding the default and
// an explicit flag overriding both. It owns no configuration values itself.
package config
