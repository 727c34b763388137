package apitest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/citypulse/citypulse/warehouse"
	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// Demo describes a city-sized, deterministic set of synthetic events for looking at pages (not
// for hand-checked numbers): users live in real communities, central districts are busier,
// services follow a Zipf-like popularity, weekends are quieter and use grows over the days.
// Events fall at any time of their (China) day, none later than now.
type Demo struct {
	Days        int       // days of data, ending on Last
	Last        time.Time // the latest day
	Users       int       // size of the user population
	DailyActive int       // active users on an average weekday
	Seed        uint64    // same seed, same events
}

// chinaTime is the zone of event dates.
var chinaTime = time.FixedZone("CST", 8*3600)

// DefaultDemo is two weeks of a mid-sized app: ~3,000 daily users, ~50k events.
func DefaultDemo() Demo {
	return Demo{Days: 14, Last: Latest, Users: 20000, DailyActive: 3000, Seed: 5101}
}

// SeedDemo loads Chengdu's dimensions and the demo's events into the connection's (migrated)
// database and recomputes the daily aggregate for its days.
func SeedDemo(t testing.TB, conn driver.Conn, d Demo) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := seedDemo(ctx, conn, d); err != nil {
		t.Fatalf("seed demo: %v", err)
	}
}

func seedDemo(ctx context.Context, conn driver.Conn, d Demo) error {
	if _, _, err := warehouse.LoadDimensions(ctx, conn, City); err != nil {
		return fmt.Errorf("load dimensions: %w", err)
	}
	regions, err := dimdata.Regions(City)
	if err != nil {
		return err
	}
	services, err := dimdata.Services()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(d.Seed, d.Seed^0x9e3779b97f4a7c15))

	// Districts weighted by their rank in the file (the central ones come first), shared among
	// their communities, so the breakdown has a shape.
	rank := map[string]int{}
	perDistrict := map[string]int{}
	var homes []string
	for _, r := range regions {
		switch r.Level {
		case dimdata.LevelDistrict:
			rank[dimdata.Prefix(r.Code, r.Level)] = len(rank)
		case dimdata.LevelCommunity:
			homes = append(homes, r.Code)
			perDistrict[r.Code[:6]]++
		}
	}
	weights := make([]float64, len(homes))
	for i, h := range homes {
		weights[i] = (0.5 + rng.Float64()) / math.Sqrt(float64(rank[h[:6]]+1)) / float64(perDistrict[h[:6]])
	}
	pickHome := cumulative(weights)
	svcWeights := make([]float64, len(services))
	order := rng.Perm(len(services))
	for i, idx := range order {
		svcWeights[idx] = 1 / math.Pow(float64(i+1), 1.1)
	}
	pickService := cumulative(svcWeights)
	home := make([]string, d.Users)
	for u := range home {
		home[u] = homes[pickHome(rng.Float64())]
	}

	b, err := conn.PrepareBatch(ctx, insertEventsSQL)
	if err != nil {
		return fmt.Errorf("prepare dwd_events insert: %w", err)
	}
	defer b.Abort()
	now := time.Now()
	loaded := now.UTC().Truncate(time.Second)
	var days []time.Time
	msg := 0
	for ago := d.Days - 1; ago >= 0; ago-- {
		day := d.Last.AddDate(0, 0, -ago)
		days = append(days, day)
		midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, chinaTime) // event dates are China dates
		factor := 0.75 + 0.25*float64(d.Days-ago)/float64(d.Days)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			factor *= 0.7
		}
		active := int(float64(d.DailyActive) * factor * (0.95 + 0.1*rng.Float64()))
		for range active {
			u := rng.IntN(d.Users)
			user := fmt.Sprintf("demo-u%05d", u)
			for e := 0; e < 1+rng.IntN(5); e++ {
				msg++
				typ := "page"
				if rng.IntN(4) == 0 {
					typ = "track"
				}
				at := midnight.Add(time.Duration(rng.IntN(24*3600)) * time.Second)
				svc := services[pickService(rng.Float64())].ID
				if at.After(now) {
					continue // a demo ending today has no events yet to come
				}
				if err := b.Append(day, at, at, fmt.Sprintf("demo-%08d", msg), typ, "Service Viewed", user, "", user,
					fmt.Sprintf("s-%s-%d", user, ago), home[u], svc, "app", "citypulse-demo", "android", "phone", "{}", loaded); err != nil {
					return fmt.Errorf("append demo event: %w", err)
				}
			}
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert demo events: %w", err)
	}
	if err := warehouse.RefreshDaily(ctx, conn, days); err != nil {
		return fmt.Errorf("refresh daily: %w", err)
	}
	return nil
}

// cumulative returns a picker that maps a uniform [0,1) draw to an index with the weights.
func cumulative(w []float64) func(float64) int {
	sums := make([]float64, len(w))
	total := 0.0
	for i, x := range w {
		total += x
		sums[i] = total
	}
	return func(u float64) int {
		target := u * total
		lo, hi := 0, len(sums)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if sums[mid] <= target {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
}
