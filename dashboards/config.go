package dashboards

import (
	"fmt"
	"time"
)

// Config configures the big-screen pages.
type Config struct {
	// Refresh is how often the page pulls new numbers from the API; 0 turns refreshing off.
	Refresh time.Duration `flag:"dashboard-refresh" help:"how often a dashboard page reloads its data (0: load once)"`
}

// DefaultConfig refreshes every five seconds.
func DefaultConfig() Config {
	return Config{Refresh: 5 * time.Second}
}

// MinRefresh is the shortest refresh period allowed, to keep screens from flooding the API.
const MinRefresh = time.Second

// Validate reports an unusable setting, naming its flag.
func (c Config) Validate() error {
	if c.Refresh != 0 && c.Refresh < MinRefresh {
		return fmt.Errorf("dashboard-refresh %s: want 0 (off) or at least %s", c.Refresh, MinRefresh)
	}
	return nil
}
