package simulate

import (
	"crypto/sha256"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/event"
	"github.com/citypulse/citypulse/warehouse/dimdata"
)

// testEnd is a fixed end date, so tests see the same stream on any day (a Monday).
const testEnd = "2024-06-17"

func testConfig(residents, days int, seed int64) Config {
	cfg := DefaultConfig()
	cfg.Residents, cfg.Days, cfg.Seed, cfg.EndDate = residents, days, seed, testEnd
	return cfg
}

func newTestSim(t testing.TB, cfg Config) *Simulator {
	t.Helper()
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// streamDigest hashes the JSON of every event and returns the digest and the message ids.
func streamDigest(t *testing.T, s *Simulator) ([32]byte, map[string]bool) {
	t.Helper()
	h := sha256.New()
	ids := map[string]bool{}
	for e := range s.Generate {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		h.Write(b)
		ids[e.MessageID] = true
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d, ids
}

func TestDeterminism(t *testing.T) {
	base := testConfig(300, 7, 1)
	today := base
	today.EndDate = ""
	tests := []struct {
		name string
		a, b Config
		same bool
	}{
		{"same seed and end date", base, base, true},
		{"same seed, end date today", today, today, true},
		{"different seed", base, testConfig(300, 7, 2), false},
		{"different end date", base, func() Config { c := base; c.EndDate = "2024-06-18"; return c }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			da, idsA := streamDigest(t, newTestSim(t, tt.a))
			db, idsB := streamDigest(t, newTestSim(t, tt.b))
			if (da == db) != tt.same {
				t.Fatalf("streams equal = %v, want %v", da == db, tt.same)
			}
			if len(idsA) == 0 {
				t.Fatal("no events")
			}
			if !tt.same && tt.a.Seed != tt.b.Seed {
				for id := range idsA {
					if idsB[id] {
						t.Fatalf("message id %s appears under both seeds", id)
					}
				}
			}
		})
	}
}

func TestResidentIndependentOfCount(t *testing.T) {
	small := newTestSim(t, testConfig(50, 3, 7))
	large := newTestSim(t, testConfig(200, 3, 7))
	for i := range small.residents {
		a, b := small.residents[i], large.residents[i]
		if a.userID != b.userID || a.community != b.community || a.devices[0].anonID != b.devices[0].anonID {
			t.Fatalf("resident %d differs with the number of residents", i)
		}
	}
}

// Statistical tests share one larger stream.
var (
	statsOnce   sync.Once
	statsSim    *Simulator
	statsEvents []Event
)

func statsStream(t *testing.T) (*Simulator, []Event) {
	t.Helper()
	statsOnce.Do(func() {
		s, err := New(testConfig(2000, 14, 3), nil)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		statsSim = s
		for e := range s.Generate {
			statsEvents = append(statsEvents, e)
		}
	})
	if statsSim == nil {
		t.Fatal("stats stream failed to build")
	}
	return statsSim, statsEvents
}

func isView(e Event) bool { return e.Type == TypePage || e.Type == TypeScreen }

func TestEventsValidForCollector(t *testing.T) {
	s, events := statsStream(t)
	regions, err := dimdata.Regions(s.cfg.CityCode)
	if err != nil {
		t.Fatal(err)
	}
	communities := map[string]bool{}
	for _, r := range regions {
		if r.Level == dimdata.LevelCommunity {
			communities[r.Code] = true
		}
	}
	services, _ := dimdata.Services()
	names := map[uint32]string{}
	for _, sv := range services {
		names[sv.ID] = sv.Name
	}
	start, end := s.Window()
	ids := map[string]bool{}
	trackNames := map[string]bool{EventServiceOpen: true, EventServiceComplete: true, EventSearch: true}
	lastByAnon := map[string]time.Time{}
	for i, e := range events {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("event %d (%s %s): "+format, append([]any{i, e.Type, e.MessageID}, args...)...)
		}
		if len(e.Context.RegionCode) != 12 || !communities[e.Context.RegionCode] {
			fail("region_code %q is not a community of the city", e.Context.RegionCode)
		}
		if len(e.MessageID) != 36 || ids[e.MessageID] {
			fail("message id missing, malformed or repeated")
		}
		ids[e.MessageID] = true
		if e.AnonymousID == "" || e.Context.SessionID == "" || e.Context.App.Name == "" || e.Context.OS.Name == "" || e.Context.Device.Type == "" {
			fail("missing anonymousId, session_id, app, os or device")
		}
		if e.Timestamp.Before(start) || !e.Timestamp.Before(end) {
			fail("timestamp %v outside [%v, %v)", e.Timestamp, start, end)
		}
		if e.Timestamp.Before(lastByAnon[e.AnonymousID]) {
			fail("device's events out of time order")
		}
		lastByAnon[e.AnonymousID] = e.Timestamp
		switch e.Type {
		case TypeIdentify:
			if e.UserID == "" || e.Traits == nil || e.Properties != nil {
				fail("identify needs userId and traits only")
			}
			continue
		case TypeTrack:
			if !trackNames[e.Event] {
				fail("unknown track event %q", e.Event)
			}
		case TypePage, TypeScreen:
			if e.Properties == nil || e.Name != names[e.Properties.ServiceID] {
				fail("view name %q is not the service's name", e.Name)
			}
		default:
			fail("unknown type")
		}
		if e.Properties == nil || e.Properties.ServiceID < 1 || e.Properties.ServiceID > 230 {
			fail("service_id not in 1..230: %+v", e.Properties)
		}
	}
	if len(ids) < 10000 {
		t.Fatalf("only %d events", len(ids))
	}
}

func TestWireShape(t *testing.T) {
	_, events := statsStream(t)
	want := map[string][]string{
		TypeScreen:   {"type", "messageId", "timestamp", "anonymousId", "name", "properties", "context"},
		TypePage:     {"type", "messageId", "timestamp", "anonymousId", "name", "properties", "context"},
		TypeTrack:    {"type", "messageId", "timestamp", "anonymousId", "event", "properties", "context"},
		TypeIdentify: {"type", "messageId", "timestamp", "anonymousId", "userId", "traits", "context"},
	}
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.Type] {
			continue
		}
		seen[e.Type] = true
		b, _ := json.Marshal(e)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range want[e.Type] {
			if _, ok := m[k]; !ok {
				t.Errorf("%s event lacks %q: %s", e.Type, k, b)
			}
		}
		var ctx map[string]json.RawMessage
		_ = json.Unmarshal(m["context"], &ctx)
		for _, k := range []string{"app", "device", "os", "library", "region_code", "session_id"} {
			if _, ok := ctx[k]; !ok {
				t.Errorf("%s event context lacks %q", e.Type, k)
			}
		}
		var ts time.Time
		if err := json.Unmarshal(m["timestamp"], &ts); err != nil {
			t.Errorf("timestamp %s: %v", m["timestamp"], err)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("saw types %v, want all of %v", seen, want)
	}
}

func TestServiceSkew(t *testing.T) {
	_, events := statsStream(t)
	views := map[uint32]int{}
	total := 0
	for _, e := range events {
		if isView(e) {
			views[e.Properties.ServiceID]++
			total++
		}
	}
	counts := make([]int, 0, len(views))
	for _, c := range views {
		counts = append(counts, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	top := 0
	for _, c := range counts[:23] { // 10% of 230
		top += c
	}
	if share := float64(top) / float64(total); share <= 0.5 {
		t.Fatalf("top 10%% of services have %.2f of page views, want > 0.5", share)
	}
	if len(views) < 150 {
		t.Fatalf("only %d services viewed; the long tail is missing", len(views))
	}
}

func TestDailyRhythm(t *testing.T) {
	_, events := statsStream(t)
	var hours [24]int
	for _, e := range events {
		hours[e.Timestamp.In(shanghai).Hour()]++
	}
	tests := []struct {
		busy, quiet int
		factor      int
	}{
		{10, 3, 10},
		{20, 3, 10},
		{20, 15, 1},
		{9, 5, 5},
	}
	for _, tt := range tests {
		if hours[tt.busy] <= tt.factor*hours[tt.quiet] {
			t.Errorf("events at %02d:00 = %d, want > %d × events at %02d:00 = %d", tt.busy, hours[tt.busy], tt.factor, tt.quiet, hours[tt.quiet])
		}
	}
}

func TestWeekdayWeekendCategories(t *testing.T) {
	_, events := statsStream(t)
	var total [2]int
	byCat := map[string]*[2]int{}
	for _, e := range events {
		if !isView(e) {
			continue
		}
		w := b2i(isWeekend(e.Timestamp))
		total[w]++
		c := byCat[e.Properties.Category]
		if c == nil {
			c = new([2]int)
			byCat[e.Properties.Category] = c
		}
		c[w]++
	}
	share := func(cat string, w int) float64 {
		c := byCat[cat]
		if c == nil {
			t.Fatalf("no views of category %s", cat)
		}
		return float64(c[w]) / float64(total[w])
	}
	tests := []struct {
		category     string
		weekendRatio float64 // weekend share / weekday share must be below (< 1) or above (> 1)
	}{
		{"社保医保", 0.7},
		{"公积金", 0.7},
		{"法律政务", 0.7},
		{"文体旅游", 1.5},
		{"生活服务", 1.2},
	}
	for _, tt := range tests {
		t.Run(tt.category, func(t *testing.T) {
			r := share(tt.category, 1) / share(tt.category, 0)
			if tt.weekendRatio < 1 && r >= tt.weekendRatio || tt.weekendRatio > 1 && r <= tt.weekendRatio {
				t.Fatalf("weekend/weekday share ratio %.2f, want beyond %.2f", r, tt.weekendRatio)
			}
		})
	}
}

func TestDistrictsDiffer(t *testing.T) {
	s, events := statsStream(t)
	tierOfCode := map[string]tier{}
	for _, d := range s.world.districts {
		tierOfCode[d.code[:6]] = d.tier
	}
	var residents, evs, views, transport [numTiers]float64
	for _, r := range s.residents {
		residents[s.world.districts[r.district].tier]++
	}
	for _, e := range events {
		tr := tierOfCode[e.Context.RegionCode[:6]]
		evs[tr]++
		if isView(e) {
			views[tr]++
			if e.Properties.Category == "交通出行" {
				transport[tr]++
			}
		}
	}
	perCapita := func(tr tier) float64 { return evs[tr] / residents[tr] }
	transportShare := func(tr tier) float64 { return transport[tr] / views[tr] }
	tests := []struct {
		name          string
		metric        func(tier) float64
		higher, lower tier
		minRatio      float64
	}{
		{"events per resident", perCapita, tierCore, tierCounty, 1.15},
		{"events per resident", perCapita, tierCore, tierCountyCity, 1.1},
		{"交通出行 share of views", transportShare, tierCore, tierCounty, 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tierNames[tt.higher]+" vs "+tierNames[tt.lower], func(t *testing.T) {
			h, l := tt.metric(tt.higher), tt.metric(tt.lower)
			if h <= tt.minRatio*l {
				t.Fatalf("%s: %.3f vs %.3f, want ratio > %.2f", tt.name, h, l, tt.minRatio)
			}
		})
	}
	// Core districts are denser: more residents per community.
	comms := [numTiers]float64{}
	for _, c := range s.world.communities {
		comms[s.world.districts[c.district].tier]++
	}
	if core, county := residents[tierCore]/comms[tierCore], residents[tierCounty]/comms[tierCounty]; core <= 2.5*county {
		t.Fatalf("residents per community: core %.2f, county %.2f; want core > 2.5× county", core, county)
	}
}

func TestDefaultSizing(t *testing.T) {
	if testing.Short() {
		t.Skip("counts the default history")
	}
	cfg := DefaultConfig()
	cfg.EndDate = testEnd
	n := newTestSim(t, cfg).Total()
	if n < 150_000 || n > 500_000 {
		t.Fatalf("default history has %d events, want a few hundred thousand", n)
	}
}

func TestTierOf(t *testing.T) {
	tests := []struct {
		code, name string
		want       tier
	}{
		{"510104000000", "锦江区", tierCore},
		{"411002000000", "魏都区", tierCore},
		{"510116000000", "双流区", tierSuburban},
		{"411071000000", "许昌经济技术开发区", tierSuburban},
		{"510121000000", "金堂县", tierCounty},
		{"510185000000", "简阳市", tierCountyCity},
	}
	for _, tt := range tests {
		if got := tierOf(tt.code, tt.name); got != tt.want {
			t.Errorf("tierOf(%s %s) = %s, want %s", tt.code, tt.name, tierNames[got], tierNames[tt.want])
		}
	}
}

// TestCollectorParserAcceptsEverything runs the collector's own parser (ingest/event) over the
// history in batches as History sends them: no event may be rejected, and timestamps must arrive
// unchanged (History sends no sentAt, so no clock-skew correction applies). Every fourth batch
// keeps the test fast; TestEventsValidForCollector checks every event.
func TestCollectorParserAcceptsEverything(t *testing.T) {
	s, events := statsStream(t)
	now := time.Now()
	for from := 0; from < len(events); from += 4 * s.cfg.BatchSize {
		batch := events[from:min(from+s.cfg.BatchSize, len(events))]
		body, err := json.Marshal(batchBody{Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		parsed, rejected, err := event.ParseBatch(body, now, "citypulse-app")
		if err != nil {
			t.Fatalf("batch at %d: %v", from, err)
		}
		if len(rejected) > 0 {
			t.Fatalf("batch at %d: %d rejected, first: %v", from, len(rejected), rejected[0])
		}
		for i, e := range parsed {
			if e.MessageID != batch[i].MessageID || !e.Timestamp.Equal(batch[i].Timestamp) {
				t.Fatalf("event %s: parsed as %s at %v, sent at %v", batch[i].MessageID, e.MessageID, e.Timestamp, batch[i].Timestamp)
			}
		}
	}
}
