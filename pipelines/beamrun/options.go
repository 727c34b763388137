package beamrun

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Runner names Options.Runner accepts.
const (
	// Prism is Beam's Go runner: in-process without an endpoint, or a standalone Prism job
	// server with one.
	Prism = "prism"
	// Universal is Beam's portable runner: it submits to the Job API at Endpoint.
	Universal = "universal"
	// Portable is another name of Universal.
	Portable = "portable"
	// Flink is Universal against an Apache Flink job server (Beam's flink job server image or jar).
	Flink = "flink"
)

// Environment types: where a portable runner starts the workers that run our DoFns.
const (
	// Loopback: the workers run inside the submitting process (the job server calls back to it).
	Loopback = "LOOPBACK"
	// Docker: the runner starts an SDK container per worker; EnvironmentConfig is the image
	// (Beam's apache/beam_go_sdk:<version> by default) and our binary is staged into it.
	Docker = "DOCKER"
	// Process: the runner starts a process per worker; EnvironmentConfig is JSON with "command"
	// (Beam's Go boot loader), and optionally "os", "arch", "env".
	Process = "PROCESS"
	// External: the runner asks a running worker pool (EnvironmentConfig is its host:port).
	External = "EXTERNAL"
)

// DefaultConnectTimeout bounds reaching the job server.
const DefaultConnectTimeout = 10 * time.Second

// Options select the runner of a pipeline and, for portable runners, the job server and the
// workers' environment. They are plain values, so configs that are copied into DoFns may carry
// them. The zero value of every field but Runner means "Beam's default".
type Options struct {
	// Runner: prism (default; in-process when Endpoint is empty), flink, universal or portable
	// (all three submit to the Beam Job API at Endpoint).
	Runner string `flag:"beam-runner" help:"Beam runner of the pipelines: prism (in-process, or a Prism job server with beam-endpoint), flink, universal or portable (a Beam job server at beam-endpoint)"`
	// Endpoint is the job server's host:port (Flink job server: 8099).
	Endpoint string `flag:"beam-endpoint" help:"host:port of the Beam job server (Flink job server: 8099); required by flink/universal/portable"`
	// EnvironmentType is where workers run: LOOPBACK, DOCKER (Beam's default), PROCESS or EXTERNAL.
	EnvironmentType string `flag:"beam-environment-type" help:"where the portable runner runs our workers: LOOPBACK (in this process), DOCKER (Beam's default), PROCESS or EXTERNAL"`
	// EnvironmentConfig: the image for DOCKER, JSON {"command": …} for PROCESS, the worker
	// pool's host:port for EXTERNAL; unused for LOOPBACK.
	EnvironmentConfig string `flag:"beam-environment-config" help:"DOCKER: SDK image (default apache/beam_go_sdk:<version>); PROCESS: JSON with command; EXTERNAL: worker pool host:port"`
	// ConnectTimeout bounds reaching the job server (DefaultConnectTimeout when 0).
	ConnectTimeout time.Duration `flag:"beam-connect-timeout" help:"how long to try reaching the Beam job server before failing"`
	// JobName names the job on the runner (Flink's UI); set by the caller, not a flag. Empty: a
	// generated name.
	JobName string
}

// Default returns the in-process Prism runner.
func Default() Options {
	return Options{Runner: Prism, ConnectTimeout: DefaultConnectTimeout}
}

// Runners lists the accepted runner names.
func Runners() []string { return []string{Prism, Flink, Universal, Portable} }

// Override returns o with its Runner replaced by runner when runner is set and is not the default
// (prism), or when o has no runner: a pipeline family's own runner setting (e.g. minute-runner)
// moves it off the shared beam-runner, while beam-runner alone moves every family.
func (o Options) Override(runner string) Options {
	runner = strings.ToLower(strings.TrimSpace(runner))
	if o.Runner == "" || (runner != "" && runner != Prism) {
		o.Runner = runner
	}
	return o
}

// Named returns o with JobName set when it is empty.
func (o Options) Named(name string) Options {
	if o.JobName == "" {
		o.JobName = name
	}
	return o
}

// normalize lower-cases the runner and upper-cases the environment type.
func (o Options) normalize() Options {
	o.Runner = strings.ToLower(strings.TrimSpace(o.Runner))
	o.Endpoint = strings.TrimSpace(o.Endpoint)
	o.EnvironmentType = strings.ToUpper(strings.TrimSpace(o.EnvironmentType))
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	return o
}

// InProcess reports whether the options run the pipeline in this process's own Prism runner.
func (o Options) InProcess() bool {
	o = o.normalize()
	return o.Runner == Prism && o.Endpoint == ""
}

// Validate names the first bad field by its flag.
func (o Options) Validate() error {
	o = o.normalize()
	switch o.Runner {
	case "":
		return fmt.Errorf("beam-runner: empty: want one of %s", strings.Join(Runners(), ", "))
	case Prism, Flink, Universal, Portable:
	default:
		return fmt.Errorf("beam-runner: %q: want one of %s", o.Runner, strings.Join(Runners(), ", "))
	}
	if o.ConnectTimeout < 0 {
		return fmt.Errorf("beam-connect-timeout: %s: want > 0", o.ConnectTimeout)
	}
	if o.Endpoint == "" {
		if o.Runner != Prism {
			return fmt.Errorf("beam-endpoint: empty: runner %s needs the job server's host:port (Flink job server: host:8099)", o.Runner)
		}
		if o.EnvironmentType != "" && o.EnvironmentType != Loopback {
			return fmt.Errorf("beam-environment-type: %s needs a job server (beam-endpoint): in-process Prism runs its workers in this process", o.EnvironmentType)
		}
		return nil
	}
	if err := checkHostPort(o.Endpoint); err != nil {
		return fmt.Errorf("beam-endpoint: %q: %w", o.Endpoint, err)
	}
	switch o.EnvironmentType {
	case "", Docker, Loopback:
	case Process:
		var cfg struct {
			Command string `json:"command"`
		}
		if err := json.Unmarshal([]byte(o.EnvironmentConfig), &cfg); err != nil || cfg.Command == "" {
			return fmt.Errorf(`beam-environment-config: %q: PROCESS wants JSON with a command, e.g. {"command": "/opt/apache/beam/boot"}`, o.EnvironmentConfig)
		}
	case External:
		if err := checkHostPort(o.EnvironmentConfig); err != nil {
			return fmt.Errorf("beam-environment-config: %q: EXTERNAL wants the worker pool's host:port: %w", o.EnvironmentConfig, err)
		}
	default:
		return fmt.Errorf("beam-environment-type: %q: want one of %s, %s, %s, %s", o.EnvironmentType, Loopback, Docker, Process, External)
	}
	return nil
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if host == "" {
		return fmt.Errorf("want host:port: no host")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("want host:port: port %q: want 1…65535", port)
	}
	return nil
}

// IsWorker reports whether a binary's arguments are a Beam worker start (the Go SDK's boot loader
// runs the staged binary with --worker=true --id=… --control_endpoint=…). Such a binary must call
// flag.Parse() and then beam.Init(), which runs the worker harness and exits, instead of parsing
// its own subcommand.
func IsWorker(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "worker", "worker=true", "worker=1":
			return strings.HasPrefix(a, "-")
		}
	}
	return false
}
