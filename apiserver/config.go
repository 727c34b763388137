package apiserver

import (
	"errors"
	"fmt"
	"time"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// MaxDays is the longest window, in days, an overview request may ask for.
const MaxDays = 366

// Config configures the API server.
type Config struct {
	// Listen is the address Run serves on.
	Listen string `flag:"api-listen" help:"address the API (and the dashboards) listen on"`
	// CityCode is the 12-digit code of the one city this server answers for; every region asked
	// for must lie inside it, and it is the default region.
	CityCode string `flag:"city" help:"12-digit code of the city served (e.g. 510100000000)"`
	// QueryTimeout bounds the warehouse work of one request.
	QueryTimeout time.Duration `flag:"api-query-timeout" help:"time limit for the warehouse queries of one API request"`
	// TrendDays is the default window length, in days, of /api/v1/overview (its days parameter).
	TrendDays int `flag:"api-trend-days" help:"default number of days in the overview window and trend"`
	// AdminToken is the bearer token every write request (any method but GET, HEAD and OPTIONS:
	// plan apply, review decisions, job trigger and backfill) must carry. Empty turns writes off.
	AdminToken string `flag:"api-admin-token" help:"bearer token the API's write endpoints require (plan apply, review decisions, job trigger/backfill; at least 16 characters); empty: writes answer 403"`
}

// MinAdminTokenLen is the shortest accepted api-admin-token.
const MinAdminTokenLen = 16

// DefaultConfig serves the local stack: Chengdu on 127.0.0.1:8081.
func DefaultConfig() Config {
	return Config{
		Listen:       "127.0.0.1:8081",
		CityCode:     "510100000000",
		QueryTimeout: 10 * time.Second,
		TrendDays:    14,
	}
}

// Validate reports the first setting that cannot work, naming its flag.
func (c Config) Validate() error {
	var errs []error
	if !isRegionCode(c.CityCode) || dimdata.LevelOf(c.CityCode) != dimdata.LevelCity {
		errs = append(errs, fmt.Errorf("city %q: want a 12-digit city code ending in 8 zeros (e.g. 510100000000)", c.CityCode))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("api-query-timeout %s: want a positive duration", c.QueryTimeout))
	}
	if c.TrendDays < 1 || c.TrendDays > MaxDays {
		errs = append(errs, fmt.Errorf("api-trend-days %d: want 1 to %d", c.TrendDays, MaxDays))
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminTokenLen {
		errs = append(errs, fmt.Errorf("api-admin-token: %d characters, want at least %d", len(c.AdminToken), MinAdminTokenLen))
	}
	return errors.Join(errs...)
}
