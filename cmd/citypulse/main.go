// Command citypulse is the one CityPulse binary. Each subcommand binds its configuration to flags
// and CITYPULSE_* variables and calls one package's Run; `citypulse help` lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	_ "time/tzdata" // dates in the city's zone must not depend on the host's zone files

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/citypulse/citypulse/internal/config"
	"github.com/citypulse/citypulse/pipelines/beamrun"
)

// command is one subcommand: cfg is a pointer to its config struct, run uses it.
type command struct {
	summary string
	cfg     func() any
	run     func(ctx context.Context, cfg any, args []string, log *slog.Logger) error
}

var commands = map[string]command{
	"up":        upCommand,
	"collector": collectorCommand,
	"pipeline":  pipelineCommand,
	"api":       apiCommand,
	"simulate":  simulateCommand,
	// "<command> <word>" entries are subcommands whose flags follow the word.
	"simulate community": simulateCommunityCommand,
	"migrate":            migrateCommand,
	"plan":               planCommand,
	"feeds":              feedsCommand,
	"source":             sourceCommand,
	"push":               pushCommand,
	"jobs":               jobsCommand,
	"scheduler":          schedulerCommand,
}

func main() {
	if beamrun.IsWorker(os.Args[1:]) {
		// Started by Beam's worker boot program on a cluster (--worker=true --id=…): beam.Init
		// reads those flags, runs the worker and exits.
		flag.Parse()
	}
	beam.Init()
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		return 2
	}
	name := args[0]
	if len(args) > 1 {
		if _, ok := commands[name+" "+args[1]]; ok {
			name, args = name+" "+args[1], args[1:]
		}
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "citypulse: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("citypulse "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	logLevel := fs.String("log-level", envOr("CITYPULSE_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env CITYPULSE_LOG_LEVEL)")
	cfg := cmd.cfg()
	if err := config.Bind(fs, cfg); err != nil {
		fmt.Fprintf(stderr, "citypulse %s: %v\n", name, err)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "citypulse %s: -log-level %q: want debug, info, warn or error\n", name, *logLevel)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, cfg, fs.Args(), log); err != nil {
		log.Error("citypulse "+name+" failed", "err", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: citypulse <command> [flags]   (citypulse <command> -h lists its flags)\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-19s %s\n", n, commands[n].summary)
	}
}

func envOr(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}
