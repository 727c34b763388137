package plan

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/ingest/simulate"
)

// simulatedEvents returns the canonical events of a small simulated city, as the collector's
// parser makes them from the simulator's batches.
func simulatedEvents(t testing.TB, residents, days int) []event.Event {
	t.Helper()
	cfg := simulate.DefaultConfig()
	cfg.Residents, cfg.Days, cfg.EndDate = residents, days, "2024-06-17"
	sim, err := simulate.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var raw []simulate.Event
	sim.Generate(func(e simulate.Event) bool { raw = append(raw, e); return true })
	var out []event.Event
	for len(raw) > 0 {
		n := min(len(raw), 200)
		body, err := json.Marshal(map[string]any{"batch": raw[:n]})
		if err != nil {
			t.Fatal(err)
		}
		raw = raw[n:]
		evs, rejs, err := event.ParseBatch(body, time.Date(2024, 6, 17, 12, 0, 0, 0, time.UTC), "citypulse-app")
		if err != nil || len(rejs) > 0 {
			t.Fatalf("parse simulated batch: %v %v", err, rejs)
		}
		out = append(out, evs...)
	}
	return out
}

// TestSimulatedTrafficFollowsExamplePlan: the example plan describes what the city's apps send,
// so the simulator's traffic passes it whole, unflagged.
func TestSimulatedTrafficFollowsExamplePlan(t *testing.T) {
	c := testChecker(t)
	evs := simulatedEvents(t, 200, 3)
	byType := map[string]int{}
	for i := range evs {
		rej, flags := c.Check(evs[i].Source, &evs[i])
		if rej != nil || flags != nil {
			t.Fatalf("event %s %s%s: rejected %+v, flags %v", evs[i].Type, evs[i].Event, evs[i].Name, rej, flags)
		}
		byType[evs[i].Type]++
	}
	for _, typ := range []string{event.TypeTrack, event.TypePage, event.TypeScreen, event.TypeIdentify} {
		if byType[typ] == 0 {
			t.Errorf("no %s events in the simulated traffic: the test covers less than it claims", typ)
		}
	}
}
