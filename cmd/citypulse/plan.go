package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"

	"github.com/citypulse/citypulse/ingest/plan"
	"github.com/citypulse/citypulse/internal/metastore"
)

type planConfig struct {
	Meta    metastore.Config
	By      string `flag:"by" help:"who applies the plan (recorded with the version; default: the OS user)"`
	Version int    `flag:"version" help:"plan show: the version to show (0 = the active one)"`
	Format  string `flag:"format" help:"plan show: text, yaml or json"`
}

var planCommand = command{
	summary: "manage the tracking plan: plan apply FILE | plan show",
	cfg:     func() any { return &planConfig{Meta: metastore.DefaultConfig(), Format: "text"} },
	run: func(ctx context.Context, cfg any, args []string, _ *slog.Logger) error {
		c := cfg.(*planConfig)
		if len(args) == 0 || (args[0] != "apply" && args[0] != "show") || (args[0] == "apply" && len(args) != 2) {
			return fmt.Errorf("usage: citypulse plan [flags] apply FILE | citypulse plan [flags] show")
		}
		ms, err := metastore.Open(ctx, c.Meta)
		if err != nil {
			return err
		}
		defer ms.Close()
		store, err := plan.NewStore(ctx, ms)
		if err != nil {
			return err
		}
		if args[0] == "show" {
			return plan.Show(ctx, store, os.Stdout, c.Version, c.Format)
		}
		by := c.By
		if by == "" {
			if u, err := user.Current(); err == nil {
				by = u.Username
			}
		}
		res, err := plan.ApplyFile(ctx, store, args[1], by)
		if err != nil {
			return fmt.Errorf("apply %s: %w", args[1], err)
		}
		return plan.WriteApplyResult(os.Stdout, res)
	},
}
