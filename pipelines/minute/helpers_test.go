package minute

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// tev is a test event as a client sends it.
type tev struct {
	ID, Type, User, Session, Region string
	Service                         uint32
	App                             string
	At                              time.Time
}

// segment is the event in the collector's batch format (Segment spec).
func (e tev) segment() map[string]any {
	ctx := map[string]any{"app": map[string]any{"name": e.App}}
	if e.Region != "" {
		ctx["region_code"] = e.Region
	}
	if e.Session != "" {
		ctx["session_id"] = e.Session
	}
	m := map[string]any{"messageId": e.ID, "type": e.Type, "anonymousId": e.User,
		"timestamp": e.At.UTC().Format(time.RFC3339), "context": ctx}
	if e.Service != 0 {
		m["properties"] = map[string]any{"service_id": e.Service}
	}
	if e.Type == "track" {
		m["event"] = "service_open"
	} else {
		m["name"] = "page"
	}
	return m
}

// canonical is the event as the collector writes it to Kafka.
func (e tev) canonical() []byte {
	seg := e.segment()
	seg["receivedAt"] = e.At.UTC().Format(time.RFC3339Nano)
	seg["source"] = "test"
	b, err := json.Marshal(seg)
	if err != nil {
		panic(err)
	}
	return b
}

// recount computes the expected series from the events a client sent, independently of the
// pipeline: events are distinct by (minute, message id), the first copy counts.
func recount(sent []tev, q Query) []Point {
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	buckets, err := bucketStarts(q.From, q.To, q.Step, loc)
	if err != nil {
		panic(err)
	}
	bucketOf := func(t time.Time) int {
		i := sort.Search(len(buckets), func(i int) bool { return buckets[i].After(t) }) - 1
		if i < 0 || i >= len(buckets)-1 {
			return -1
		}
		return i
	}
	_, prefix, _ := regionCode(q.Region)
	match := func(e tev) bool {
		return len(e.Region) == 12 && strings.HasPrefix(e.Region, prefix) &&
			(q.ServiceID == 0 || e.Service == q.ServiceID) && (q.App == "" || e.App == q.App)
	}
	seen := map[string]bool{}
	var evs []tev
	for _, e := range sent {
		k := fmt.Sprintf("%d/%s", e.At.Truncate(time.Minute).Unix(), e.ID)
		if !seen[k] {
			seen[k] = true
			evs = append(evs, e)
		}
	}
	earlier := func(a, b tev) bool {
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return a.ID < b.ID
	}
	firstOfUser, firstOfSession := map[string]tev{}, map[string]tev{}
	sessionEnd := map[string]time.Time{}
	for _, e := range evs {
		if f, ok := firstOfUser[e.User]; !ok || earlier(e, f) {
			firstOfUser[e.User] = e
		}
		if e.Session == "" {
			continue
		}
		if f, ok := firstOfSession[e.Session]; !ok || earlier(e, f) {
			firstOfSession[e.Session] = e
		}
		if e.At.After(sessionEnd[e.Session]) {
			sessionEnd[e.Session] = e.At
		}
	}
	out := make([]Point, len(buckets)-1)
	users := make([]map[string]bool, len(out))
	sessions := make([]map[string]bool, len(out))
	lengths := make([][]uint32, len(out))
	for i := range out {
		out[i].Time = buckets[i]
		users[i], sessions[i] = map[string]bool{}, map[string]bool{}
	}
	for _, e := range evs {
		i := bucketOf(e.At)
		if i < 0 || !match(e) {
			continue
		}
		out[i].Events++
		if e.Type == "page" || e.Type == "screen" {
			out[i].PageViews++
		}
		users[i][e.User] = true
		if e.Session != "" {
			sessions[i][e.Session] = true
		}
	}
	for _, e := range firstOfUser {
		if i := bucketOf(e.At); i >= 0 && match(e) {
			out[i].NewUsers++
		}
	}
	for s, e := range firstOfSession {
		if i := bucketOf(e.At); i >= 0 && match(e) {
			lengths[i] = append(lengths[i], uint32(sessionEnd[s].Sub(e.At)/time.Second))
		}
	}
	for i := range out {
		out[i].Users, out[i].Sessions = uint64(len(users[i])), uint64(len(sessions[i]))
		if l := lengths[i]; len(l) > 0 {
			sort.Slice(l, func(a, b int) bool { return l[a] < l[b] })
			out[i].SessionsStarted, out[i].MedianSessionSeconds = uint64(len(l)), l[len(l)/2]
		}
	}
	return out
}

// checkSeries compares Series with the recount for each query.
func checkSeries(t *testing.T, conn driver.Conn, sent []tev, queries []Query) {
	t.Helper()
	for _, q := range queries {
		got, err := Series(context.Background(), conn, q)
		if err != nil {
			t.Fatalf("Series(%+v): %v", q, err)
		}
		want := recount(sent, q)
		if len(got) != len(want) {
			t.Fatalf("Series(%s %s svc=%d app=%q): %d points, want %d", q.Region, q.Step, q.ServiceID, q.App, len(got), len(want))
		}
		for i := range got {
			if !got[i].Time.Equal(want[i].Time) || got[i] != withTime(want[i], got[i].Time) {
				t.Errorf("Series(%s %s svc=%d app=%q) at %s:\n got %+v\nwant %+v", q.Region, q.Step, q.ServiceID, q.App,
					want[i].Time.Format(time.RFC3339), got[i], want[i])
			}
		}
	}
}

// withTime returns p with its time replaced (points compare by value, times by instant).
func withTime(p Point, t time.Time) Point {
	p.Time = t
	return p
}

// queriesFor returns minute, hour and day queries at every level of region and for one service
// and one app, covering [from, to).
func queriesFor(from, to time.Time, region string, service uint32, app string) []Query {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	var qs []Query
	for _, n := range []int{4, 6, 9, 12} {
		qs = append(qs, Query{Region: region[:n], From: from, To: to, Step: StepMinute})
	}
	qs = append(qs,
		Query{Region: region[:4], From: from, To: to, Step: StepMinute, ServiceID: service},
		Query{Region: region[:6], From: from, To: to, Step: StepMinute, App: app},
		Query{Region: region[:4], From: from, To: to, Step: StepHour, Location: shanghai},
		Query{Region: region[:6], From: from, To: to, Step: StepDay, Location: shanghai},
		Query{Region: region[:4], From: from, To: to, Step: StepDay, ServiceID: service, App: app},
	)
	return qs
}
