package config

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Addr    string        `flag:"x-addr" help:"address"`
	Timeout time.Duration `flag:"x-timeout" help:"timeout"`
}

type outer struct {
	Inner  inner
	Count  int      `flag:"x-count" help:"count"`
	On     bool     `flag:"x-on" help:"switch"`
	Keys   []string `flag:"x-keys" help:"keys"`
	Ratio  float64  `flag:"x-ratio" help:"ratio"`
	Ignore string
}

func TestBind(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    outer
		wantErr string
	}{
		{name: "defaults", want: defaults()},
		{name: "env overrides default", env: map[string]string{"CITYPULSE_X_ADDR": "h:1", "CITYPULSE_X_KEYS": "a, b,,c"},
			want: with(func(o *outer) { o.Inner.Addr = "h:1"; o.Keys = []string{"a", "b", "c"} })},
		{name: "flag overrides env", env: map[string]string{"CITYPULSE_X_COUNT": "5"}, args: []string{"-x-count=7", "-x-on", "-x-timeout=2m", "-x-ratio=0.5"},
			want: with(func(o *outer) { o.Count = 7; o.On = true; o.Inner.Timeout = 2 * time.Minute; o.Ratio = 0.5 })},
		{name: "bad env names the variable", env: map[string]string{"CITYPULSE_X_COUNT": "many"}, wantErr: "CITYPULSE_X_COUNT"},
		{name: "bad duration", env: map[string]string{"CITYPULSE_X_TIMEOUT": "5"}, wantErr: "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := defaults()
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			err := Bind(fs, &got)
			if err == nil {
				err = fs.Parse(tt.args)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBindRejectsUnsupported(t *testing.T) {
	var bad struct {
		M map[string]string `flag:"m"`
	}
	if err := Bind(flag.NewFlagSet("t", flag.ContinueOnError), &bad); err == nil {
		t.Fatal("want an error for a map field")
	}
}

func defaults() outer {
	return outer{Inner: inner{Addr: "127.0.0.1:1", Timeout: time.Second}, Count: 3, Keys: []string{"k"}}
}

func with(f func(*outer)) outer { o := defaults(); f(&o); return o }
