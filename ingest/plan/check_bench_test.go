package plan

import (
	"encoding/json"
	"testing"
)

// BenchmarkCheck runs the example plan over simulated traffic (every event valid, the common
// case), beside a baseline that only decodes each event's properties, traits and context into
// maps, the least a checker built on encoding/json would do. Compare ns/op and allocs/op of the
// two; the collector's budget at 50,000 events/s on two cores is ~40 µs an event for everything.
func BenchmarkCheck(b *testing.B) {
	c := testChecker(b)
	evs := simulatedEvents(b, 100, 2)
	var bytes int64
	for i := range evs {
		bytes += int64(len(evs[i].Properties) + len(evs[i].Traits) + len(evs[i].Context))
	}
	perEvent := bytes / int64(len(evs))

	b.Run("plan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(perEvent)
		i := 0
		for b.Loop() {
			e := &evs[i%len(evs)]
			if rej, _ := c.Check(e.Source, e); rej != nil {
				b.Fatal(rej)
			}
			i++
		}
	})
	b.Run("baseline-json-decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(perEvent)
		i := 0
		for b.Loop() {
			e := &evs[i%len(evs)]
			for _, raw := range [][]byte{e.Properties, e.Traits, e.Context} {
				if len(raw) == 0 {
					continue
				}
				var m map[string]json.RawMessage
				if err := json.Unmarshal(raw, &m); err != nil {
					b.Fatal(err)
				}
			}
			i++
		}
	})
	b.Run("plan-rejecting", func(b *testing.B) {
		b.ReportAllocs()
		bad := track("service_open", `{"service_id": 101, "category": "购物"}`)
		for b.Loop() {
			if rej, _ := c.Check("citypulse-app", bad); rej == nil {
				b.Fatal("passed")
			}
		}
	})
}
