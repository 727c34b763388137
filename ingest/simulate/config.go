package simulate

import (
	"fmt"
	"net/url"
	"time"
)

// Config is the simulator's configuration. Each field maps to a flag and a CITYPULSE_* variable
// through internal/config.
type Config struct {
	CollectorURL string  `flag:"sim-collector-url" help:"base URL of the collector; events go to <url>/v1/batch"`
	WriteKey     string  `flag:"sim-write-key" help:"write key sent as the HTTP Basic user name (empty password)"`
	CityCode     string  `flag:"sim-city" help:"12-digit code of the city whose communities the residents live in"`
	Residents    int     `flag:"sim-residents" help:"number of simulated residents"`
	Days         int     `flag:"sim-days" help:"days of history, ending at the start of today (Asia/Shanghai) or of sim-end-date"`
	EndDate      string  `flag:"sim-end-date" help:"history ends at the start of this day, YYYY-MM-DD in Asia/Shanghai (empty: today)"`
	Seed         int64   `flag:"sim-seed" help:"seed of the residents and their events; the same seed and end date give the same events"`
	BatchSize    int     `flag:"sim-batch-size" help:"events per HTTP batch"`
	Concurrency  int     `flag:"sim-concurrency" help:"batches in flight at once while loading the history"`
	TrickleRate  float64 `flag:"sim-trickle-rate" help:"live events per second sent by the trickle mode"`
}

// DefaultConfig serves the local stack: 10,000 Chengdu residents over 14 days (a few hundred
// thousand events), sent to the collector on 127.0.0.1:8080 with the development write key.
func DefaultConfig() Config {
	return Config{
		CollectorURL: "http://127.0.0.1:8080",
		WriteKey:     "citypulse-dev-key",
		CityCode:     "510100000000",
		Residents:    10000,
		Days:         14,
		Seed:         1,
		BatchSize:    200,
		Concurrency:  4,
		TrickleRate:  5,
	}
}

// Limits checked by validate.
const (
	maxDays      = 366
	maxBatchSize = 500 // ~360 KB at ~720 bytes an event: under Segment's and the collector's 512 KB
)

// shanghai is Asia/Shanghai: China has kept UTC+8 without daylight saving since 1991, so a fixed
// zone is exact and needs no tzdata on the machine.
var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// validate checks the fields and returns the end of the history window (a Shanghai midnight).
func (c Config) validate(now time.Time) (time.Time, error) {
	u, err := url.Parse(c.CollectorURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return time.Time{}, fmt.Errorf("sim-collector-url %q: want an http(s) URL such as http://127.0.0.1:8080", c.CollectorURL)
	}
	switch {
	case c.WriteKey == "":
		return time.Time{}, fmt.Errorf("sim-write-key: must not be empty")
	case c.Residents < 1:
		return time.Time{}, fmt.Errorf("sim-residents %d: want at least 1", c.Residents)
	case c.Days < 1 || c.Days > maxDays:
		return time.Time{}, fmt.Errorf("sim-days %d: want 1..%d", c.Days, maxDays)
	case c.BatchSize < 1 || c.BatchSize > maxBatchSize:
		return time.Time{}, fmt.Errorf("sim-batch-size %d: want 1..%d", c.BatchSize, maxBatchSize)
	case c.Concurrency < 1:
		return time.Time{}, fmt.Errorf("sim-concurrency %d: want at least 1", c.Concurrency)
	case c.TrickleRate < 0:
		return time.Time{}, fmt.Errorf("sim-trickle-rate %g: must not be negative", c.TrickleRate)
	}
	if c.EndDate == "" {
		y, m, d := now.In(shanghai).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, shanghai), nil
	}
	end, err := time.ParseInLocation("2006-01-02", c.EndDate, shanghai)
	if err != nil {
		return time.Time{}, fmt.Errorf("sim-end-date %q: want YYYY-MM-DD", c.EndDate)
	}
	return end, nil
}
