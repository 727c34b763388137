package scheduler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxYAMLBytes bounds a jobs file.
const MaxYAMLBytes = 1 << 20

// yamlFile is the jobs file:
//
//	jobs:
//	  - name: daily                 # a job declared in code: the fields given override it
//	    schedule: "45 0 * * *"
//	    retries: 5
//	  - name: daily_again           # a new job: run names a function (WithFuncs)
//	    run: refresh_daily
//	    schedule: "0 6 * * *"
//	    depends_on: [events]
//	    timeout: 1h
//	    backoff: 2m
//	    max_backoff: 30m
//	    partition: day              # day | hour | instant
//	    timezone: Asia/Shanghai
//	    disabled: false
//	    description: "a second pass after late uploads"
type yamlFile struct {
	Jobs []yamlJob `yaml:"jobs"`
}

type yamlJob struct {
	Name        string    `yaml:"name"`
	Description *string   `yaml:"description"`
	Run         *string   `yaml:"run"`
	Schedule    *string   `yaml:"schedule"`
	Timezone    *string   `yaml:"timezone"`
	Partition   *string   `yaml:"partition"`
	DependsOn   *[]string `yaml:"depends_on"`
	Timeout     *string   `yaml:"timeout"`
	Retries     *int      `yaml:"retries"`
	Backoff     *string   `yaml:"backoff"`
	MaxBackoff  *string   `yaml:"max_backoff"`
	Disabled    *bool     `yaml:"disabled"`
}

// ApplyYAML applies a jobs file to the jobs declared in code and returns the result (jobs is not
// modified): an entry naming a declared job overrides the fields it gives; an entry with a new
// name declares a job, whose run field names one of funcs. "retries: 0" in the file means no
// retries. Unknown fields, duplicate entries and bad values are errors naming the entry and
// field; the result is validated again by New (schedules, cycles).
func ApplyYAML(jobs []Job, data []byte, funcs map[string]RunFunc) ([]Job, error) {
	if len(data) > MaxYAMLBytes {
		return nil, fmt.Errorf("jobs file: %d bytes: want at most %d", len(data), MaxYAMLBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f yamlFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("jobs file: %w", err)
	}
	out := slices.Clone(jobs)
	index := map[string]int{}
	for i, j := range out {
		index[j.Name] = i
	}
	seen := map[string]bool{}
	var errs []error
	for i, y := range f.Jobs {
		where := fmt.Sprintf("jobs[%d]", i)
		if y.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name: required", where))
			continue
		}
		where += " (" + y.Name + ")"
		if seen[y.Name] {
			errs = append(errs, fmt.Errorf("%s: the job appears twice in the file", where))
			continue
		}
		seen[y.Name] = true
		k, declared := index[y.Name]
		var j Job
		if declared {
			j = out[k]
		} else {
			j = Job{Name: y.Name}
			if y.Run == nil {
				errs = append(errs, fmt.Errorf("%s: run: required for a job not declared in code (one of: %s)", where, funcNames(funcs)))
				continue
			}
		}
		if err := y.applyTo(&j, funcs); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if declared {
			out[k] = j
		} else {
			index[j.Name] = len(out)
			out = append(out, j)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (y yamlJob) applyTo(j *Job, funcs map[string]RunFunc) error {
	if y.Run != nil {
		fn, ok := funcs[*y.Run]
		if !ok {
			return fmt.Errorf("run: %q is not a known function (one of: %s)", *y.Run, funcNames(funcs))
		}
		j.Run = fn
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&j.Description, y.Description)
	set(&j.Schedule, y.Schedule)
	set(&j.Timezone, y.Timezone)
	if y.Partition != nil {
		j.Partition = Partition(strings.TrimSpace(*y.Partition))
	}
	if y.DependsOn != nil {
		j.DependsOn = slices.Clone(*y.DependsOn)
	}
	durations := []struct {
		field string
		src   *string
		dst   *time.Duration
	}{{"timeout", y.Timeout, &j.Timeout}, {"backoff", y.Backoff, &j.Backoff}, {"max_backoff", y.MaxBackoff, &j.MaxBackoff}}
	for _, d := range durations {
		if d.src == nil {
			continue
		}
		v, err := time.ParseDuration(strings.TrimSpace(*d.src))
		if err != nil || v <= 0 {
			return fmt.Errorf("%s: %q: want a positive duration such as 90s, 30m or 2h", d.field, *d.src)
		}
		*d.dst = v
	}
	if y.Retries != nil {
		switch r := *y.Retries; {
		case r < 0 || r > 100:
			return fmt.Errorf("retries: %d: want 0 to 100", r)
		case r == 0:
			j.Retries = NoRetries
		default:
			j.Retries = r
		}
	}
	if y.Disabled != nil {
		j.Disabled = *y.Disabled
	}
	return nil
}

func funcNames(funcs map[string]RunFunc) string {
	if len(funcs) == 0 {
		return "none registered"
	}
	names := make([]string, 0, len(funcs))
	for n := range funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
