package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/citypulse/citypulse/ingest/feeds"
	"github.com/citypulse/citypulse/internal/metastore"
)

type sourceConfig struct {
	Meta    metastore.Config
	Secrets feeds.SecretsConfig
}

const sourceUsage = "usage: citypulse source [flags] add FILE.json | key ID | revoke ID KEY_ID | show ID"

var sourceCommand = command{
	summary: "manage feed sources: source add FILE.json | key ID | revoke ID KEY_ID | show ID",
	cfg:     func() any { return &sourceConfig{Meta: metastore.DefaultConfig()} },
	run: func(ctx context.Context, cfg any, args []string, _ *slog.Logger) error {
		c := cfg.(*sourceConfig)
		want := map[string]int{"add": 2, "key": 2, "revoke": 3, "show": 2}
		if len(args) == 0 || want[args[0]] != len(args) {
			return fmt.Errorf(sourceUsage)
		}
		meta, err := metastore.Open(ctx, c.Meta)
		if err != nil {
			return err
		}
		defer meta.Close()
		st, err := feeds.NewStore(ctx, meta, feeds.WithSecrets(c.Secrets))
		if err != nil {
			return err
		}
		id := args[1]
		switch args[0] {
		case "add":
			src, err := feeds.RegisterFile(ctx, st, args[1])
			if err != nil {
				return err
			}
			id = src.ID
		case "key":
			k, err := st.AddKey(ctx, id)
			if err != nil {
				return err
			}
			if err := feeds.WriteNewKey(os.Stdout, id, k); err != nil {
				return err
			}
		case "revoke":
			if err := st.RevokeKey(ctx, id, args[2]); err != nil {
				return err
			}
		}
		src, err := st.Source(ctx, id)
		if err != nil {
			return err
		}
		keys, err := st.ActiveKeys(ctx, id)
		if err != nil {
			return err
		}
		return feeds.WriteSource(os.Stdout, src, keys)
	},
}

type pushConfig struct {
	URL    string `flag:"feeds-url" help:"feeds gateway base URL"`
	Source string `flag:"source" help:"source id (X-CityPulse-Source)"`
	Secret string `flag:"secret" help:"the source's secret, hex (prefer the environment variable)"`
	Format string `flag:"format" help:"csv, jsonl, parquet or arrow (default: from the file extension)"`
}

var pushCommand = command{
	summary: "sign and upload a data file to the feeds gateway: push DATASET FILE",
	cfg:     func() any { return &pushConfig{URL: "http://127.0.0.1:8082"} },
	run: func(ctx context.Context, cfg any, args []string, _ *slog.Logger) error {
		c := cfg.(*pushConfig)
		if len(args) != 2 {
			return fmt.Errorf("usage: citypulse push -source ID [-secret HEX] DATASET FILE")
		}
		if c.Source == "" {
			return fmt.Errorf("-source: required")
		}
		secret, err := hex.DecodeString(c.Secret)
		if err != nil || len(secret) == 0 {
			return fmt.Errorf("-secret (or CITYPULSE_SECRET): want the hex secret printed by `citypulse source key`")
		}
		m, err := feeds.PushFile(ctx, nil, c.URL, c.Source, secret, args[0], args[1], c.Format)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(m)
	},
}
