package simulate

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// Simulator generates the app events of a city's residents and sends them to a collector.
// Its methods may be called one at a time or concurrently; each run keeps its own state.
type Simulator struct {
	cfg       Config
	log       *slog.Logger
	world     *world
	residents []resident
	start     time.Time // first midnight of the history (Asia/Shanghai)
	end       time.Time // the midnight the history ends at (exclusive)
	client    *http.Client
	batchURL  string
	retry     retryPolicy
}

// New builds the city from the embedded region data of cfg.CityCode and the service catalogue,
// and draws the residents. It does no I/O.
func New(cfg Config, log *slog.Logger) (*Simulator, error) {
	return newAt(cfg, log, time.Now())
}

func newAt(cfg Config, log *slog.Logger, now time.Time) (*Simulator, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	end, err := cfg.validate(now)
	if err != nil {
		return nil, err
	}
	regions, err := dimdata.Regions(cfg.CityCode)
	if err != nil {
		return nil, fmt.Errorf("sim-city: %w", err)
	}
	services, err := dimdata.Services()
	if err != nil {
		return nil, fmt.Errorf("load services: %w", err)
	}
	w, err := newWorld(regions, services)
	if err != nil {
		return nil, fmt.Errorf("city %s: %w", cfg.CityCode, err)
	}
	s := &Simulator{
		cfg:      cfg,
		log:      log,
		world:    w,
		start:    end.AddDate(0, 0, -cfg.Days),
		end:      end,
		batchURL: strings.TrimRight(cfg.CollectorURL, "/") + "/v1/batch",
		retry:    defaultRetry,
		client: &http.Client{
			Timeout: requestTimeout,
			Transport: &http.Transport{
				Proxy:               http.ProxyFromEnvironment,
				MaxIdleConnsPerHost: cfg.Concurrency + 1,
				IdleConnTimeout:     90 * time.Second,
			},
		},
	}
	firstDay, lastDay := dayNumber(s.start), dayNumber(end)-1
	s.residents = make([]resident, cfg.Residents)
	for i := range s.residents {
		s.residents[i] = s.newResident(i, firstDay, lastDay)
	}
	log.Debug("simulator ready", "city", cfg.CityCode, "districts", len(w.districts),
		"communities", len(w.communities), "services", len(services), "residents", cfg.Residents,
		"from", s.start.Format(time.DateOnly), "to", end.Format(time.DateOnly))
	return s, nil
}

// Window returns the history's time range: [start, end), both midnights in Asia/Shanghai.
func (s *Simulator) Window() (start, end time.Time) { return s.start, s.end }
