package beamrun_test

import (
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/pipelines/beamrun"
)

func TestValidate(t *testing.T) {
	ok := beamrun.Default()
	flink := beamrun.Options{Runner: "flink", Endpoint: "jobserver:8099", EnvironmentType: "docker"}
	mod := func(o beamrun.Options, f func(*beamrun.Options)) beamrun.Options { f(&o); return o }
	cases := []struct {
		name string
		o    beamrun.Options
		want string // "" = valid; else a substring of the error
	}{
		{"default in-process prism", ok, ""},
		{"in-process loopback", mod(ok, func(o *beamrun.Options) { o.EnvironmentType = "loopback" }), ""},
		{"flink docker", flink, ""},
		{"flink default environment", mod(flink, func(o *beamrun.Options) { o.EnvironmentType = "" }), ""},
		{"universal loopback", beamrun.Options{Runner: "Universal", Endpoint: "127.0.0.1:8073", EnvironmentType: "LOOPBACK"}, ""},
		{"prism job server", beamrun.Options{Runner: "prism", Endpoint: "localhost:8073"}, ""},
		{"process", mod(flink, func(o *beamrun.Options) {
			o.EnvironmentType, o.EnvironmentConfig = "PROCESS", `{"command": "/opt/apache/beam/boot"}`
		}), ""},
		{"external", mod(flink, func(o *beamrun.Options) { o.EnvironmentType, o.EnvironmentConfig = "EXTERNAL", "pool:50000" }), ""},
		{"empty runner", beamrun.Options{}, "beam-runner: empty: want one of prism, flink, universal, portable"},
		{"unknown runner", beamrun.Options{Runner: "dataflow"}, `beam-runner: "dataflow": want one of prism, flink, universal, portable`},
		{"flink without endpoint", beamrun.Options{Runner: "flink"}, "beam-endpoint: empty: runner flink needs"},
		{"universal without endpoint", beamrun.Options{Runner: "universal"}, "beam-endpoint: empty: runner universal"},
		{"portable without endpoint", beamrun.Options{Runner: "portable"}, "beam-endpoint: empty: runner portable"},
		{"endpoint without port", mod(flink, func(o *beamrun.Options) { o.Endpoint = "jobserver" }), `beam-endpoint: "jobserver": want host:port`},
		{"endpoint bad port", mod(flink, func(o *beamrun.Options) { o.Endpoint = "jobserver:99999" }), "port \"99999\""},
		{"endpoint without host", mod(flink, func(o *beamrun.Options) { o.Endpoint = ":8099" }), "no host"},
		{"docker in-process", mod(ok, func(o *beamrun.Options) { o.EnvironmentType = "DOCKER" }), "beam-environment-type: DOCKER needs a job server"},
		{"unknown environment", mod(flink, func(o *beamrun.Options) { o.EnvironmentType = "k8s" }), `beam-environment-type: "K8S"`},
		{"process without command", mod(flink, func(o *beamrun.Options) { o.EnvironmentType = "PROCESS" }), "beam-environment-config: \"\": PROCESS wants JSON"},
		{"external without pool", mod(flink, func(o *beamrun.Options) { o.EnvironmentType = "EXTERNAL" }), "EXTERNAL wants the worker pool's host:port"},
		{"negative timeout", mod(ok, func(o *beamrun.Options) { o.ConnectTimeout = -time.Second }), "beam-connect-timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.o.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	shared := beamrun.Options{Runner: "flink", Endpoint: "js:8099"}
	cases := []struct {
		name   string
		o      beamrun.Options
		family string
		want   string
	}{
		{"family default keeps the shared runner", shared, "prism", "flink"},
		{"family unset keeps the shared runner", shared, "", "flink"},
		{"family moves off the default", beamrun.Default(), "universal", "universal"},
		{"family wins over shared", shared, "Portable", "portable"},
		{"no shared options take the family's", beamrun.Options{}, "prism", "prism"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.o.Override(c.family).Runner; got != c.want {
				t.Errorf("Override(%q).Runner = %q, want %q", c.family, got, c.want)
			}
		})
	}
}

func TestIsWorker(t *testing.T) {
	cases := []struct {
		args []string
		want bool
	}{
		{[]string{"--worker=true", "--id=1", "--control_endpoint=localhost:1"}, true},
		{[]string{"-worker", "--id=1"}, true},
		{[]string{"pipeline", "--once"}, false},
		{[]string{"worker"}, false},
		{nil, false},
	}
	for _, c := range cases {
		if got := beamrun.IsWorker(c.args); got != c.want {
			t.Errorf("IsWorker(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}
