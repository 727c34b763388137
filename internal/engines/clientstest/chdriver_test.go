package clientstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/testenv/stacktest"
)

// analystQueries are what an analyst's notebook asks of the warehouse: the clean event detail,
// the daily aggregate (its uniqCombined states finalised, and merged across a district), and
// the analyst view of the person table with its Nullable, Array and Date columns.
var analystQueries = []struct{ name, sql string }{
	{"dwd_events", "SELECT * FROM dwd_events FINAL ORDER BY message_id"},
	{"dws_region_service_daily", `SELECT event_date, region_code, service_id, page_views, events,
		finalizeAggregation(users) AS users, computed_at
		FROM dws_region_service_daily FINAL ORDER BY event_date, region_code, service_id`},
	{"dws by district", `SELECT substring(region_code, 1, 6) AS district, sum(events) AS events,
		uniqCombinedMerge(users) AS users FROM dws_region_service_daily FINAL GROUP BY district ORDER BY district`},
	{"v_dwd_person", "SELECT * FROM v_dwd_person ORDER BY identity_key"},
}

// result is one query's answer in the canonical form deploy/clients/python/ch_read.py writes.
type result struct {
	Columns [][2]string `json:"columns"`
	Rows    [][]any     `json:"rows"`
}

// TestClickHouseDriverReadsWarehouse loads events (through the collector) and person feed
// records (through the feeds topic) with the real pipeline, then reads the warehouse with
// clickhouse-driver and with our Go client: same columns, same types, same rows.
func TestClickHouseDriverReadsWarehouse(t *testing.T) {
	tl := needPython(t)
	s := stacktest.Start(t, stacktest.Options{})
	nEvents := postEvents(t, s)
	producePersons(t, s)
	res := s.RunOnce()
	if res.Written != int64(nEvents) || res.DeadLetters != 0 {
		t.Fatalf("events pipeline wrote %d, %d dead letters; want %d, 0", res.Written, res.DeadLetters, nEvents)
	}
	if c := res.Clean["person"]; c == nil || c.Written != 3 {
		t.Fatalf("person cleaning %+v, want 3 rows written", c)
	}

	host, port, err := net.SplitHostPort(s.Warehouse.Addr)
	if err != nil {
		t.Fatal(err)
	}
	sqls := make([]string, len(analystQueries))
	for i, q := range analystQueries {
		sqls[i] = q.sql
	}
	out := run(t, mustJSON(t, sqls), []string{"CLICKHOUSE_PASSWORD=" + s.Warehouse.Password}, tl.python,
		filepath.Join(tl.deploy, "python", "ch_read.py"), "--host", host, "--port", port,
		"--database", s.Warehouse.Database, "--user", user(s.Warehouse.User))
	var py struct {
		DriverVersion string   `json:"driver_version"`
		Server        string   `json:"server_version"`
		Results       []result `json:"results"`
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&py); err != nil {
		t.Fatalf("ch_read.py said %.500s: %v", out, err)
	}
	if want := tl.pin(t, "clickhouse-driver"); py.DriverVersion != want {
		t.Errorf("ran clickhouse-driver %s, want %s (requirements.txt): reinstall", py.DriverVersion, want)
	}
	t.Logf("clickhouse-driver %s on ClickHouse %s", py.DriverVersion, py.Server)
	if len(py.Results) != len(analystQueries) {
		t.Fatalf("ch_read.py answered %d queries, want %d", len(py.Results), len(analystQueries))
	}

	wantRows := map[string]int{"dwd_events": nEvents, "v_dwd_person": 3}
	for i, q := range analystQueries {
		goRes := goRead(t, s, q.sql)
		if n, ok := wantRows[q.name]; ok && len(goRes.Rows) != n {
			t.Errorf("%s: Go read %d rows, want %d", q.name, len(goRes.Rows), n)
		}
		if len(goRes.Rows) == 0 {
			t.Errorf("%s: no rows, nothing compared", q.name)
		}
		p := py.Results[i]
		if !reflect.DeepEqual(p.Columns, goRes.Columns) {
			t.Errorf("%s: clickhouse-driver saw columns\n%v\nGo saw\n%v", q.name, p.Columns, goRes.Columns)
			continue
		}
		if len(p.Rows) != len(goRes.Rows) {
			t.Errorf("%s: clickhouse-driver read %d rows, Go %d", q.name, len(p.Rows), len(goRes.Rows))
			continue
		}
		for r := range p.Rows {
			if a, b := normalize(p.Rows[r]), normalize(goRes.Rows[r]); !reflect.DeepEqual(a, b) {
				t.Errorf("%s row %d:\nclickhouse-driver %v\nGo                %v", q.name, r, a, b)
			}
		}
	}
}

func user(u string) string {
	if u == "" {
		return "default"
	}
	return u
}

// goRead runs a query with the warehouse's own client (clickhouse-go), scanning every column
// into the type the driver chooses, and writes the values in ch_read.py's canonical form.
func goRead(t *testing.T, s *stacktest.Stack, query string) result {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var res result
	cts := rows.ColumnTypes()
	for _, ct := range cts {
		res.Columns = append(res.Columns, [2]string{ct.Name(), ct.DatabaseTypeName()})
	}
	for rows.Next() {
		dest := make([]any, len(cts))
		for i, ct := range cts {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		r := make([]any, len(cts))
		for i, ct := range cts {
			r[i] = canonical(t, ct.DatabaseTypeName(), reflect.ValueOf(dest[i]).Elem())
		}
		res.Rows = append(res.Rows, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// canonical writes v, of ClickHouse type typ, as ch_read.py does.
func canonical(t *testing.T, typ string, v reflect.Value) any {
	t.Helper()
	typ = strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")")
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case string:
		return x
	case time.Time:
		if typ == "Date" {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format("2006-01-02T15:04:05Z")
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return json.Number(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Slice:
		elem := strings.TrimSuffix(strings.TrimPrefix(typ, "Array("), ")")
		out := make([]any, v.Len())
		for i := range out {
			out[i] = canonical(t, elem, v.Index(i))
		}
		return out
	}
	t.Fatalf("no canonical form for %s value %v (%s)", typ, v, v.Type())
	return nil
}

// normalize makes numbers comparable whatever text wrote them: integers as their digits,
// others as Go's shortest float form ("1.0" and "1" are one value).
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return string(x)
		}
		if _, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return string(x)
		}
		if f, err := x.Float64(); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	}
	return v
}

// postEvents sends a day's and the day before's events over three communities of two
// districts and three services, in one batch through the collector; it returns their number.
func postEvents(t *testing.T, s *stacktest.Stack) int {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	var batch []map[string]any
	for i, e := range []struct {
		typ, name, user, anon, region string
		service                       int
		ago                           time.Duration
	}{
		{"page", "办事指南", "", "a-1", "510104017001", 7, 3 * time.Hour},
		{"track", "service_open", "u-1", "a-1", "510104017001", 12, 3 * time.Hour},
		{"track", "appointment_booked", "u-1", "a-1", "510104017001", 12, 2 * time.Hour},
		{"screen", "实时公交", "u-2", "", "510104017002", 3, 26 * time.Hour},
		{"page", "首页", "", "a-3", "510104017002", 3, 27 * time.Hour},
		{"track", "service_open", "u-3", "a-3", "510105001001", 7, 28 * time.Hour},
		{"identify", "", "u-3", "a-3", "", 0, 28 * time.Hour},
	} {
		m := map[string]any{"type": e.typ, "messageId": fmt.Sprintf("ch-%02d", i), "timestamp": now.Add(-e.ago).Format(time.RFC3339),
			"properties": map[string]any{"来源": "首页宫格", "rank": i, "score": 0.5 + float64(i)}}
		if e.user != "" {
			m["userId"] = e.user
		}
		if e.anon != "" {
			m["anonymousId"] = e.anon
		}
		switch e.typ {
		case "track":
			m["event"] = e.name
		case "page", "screen":
			m["name"] = e.name
		}
		if e.region != "" {
			m["context"] = map[string]any{"region_code": e.region, "service_id": e.service,
				"app": map[string]any{"name": "市民云"}, "os": map[string]any{"name": "iOS"}, "device": map[string]any{"type": "ios"}}
		}
		batch = append(batch, m)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/batch", bytes.NewReader(mustJSON(t, map[string]any{"batch": batch})))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(stacktest.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct {
		Accepted int   `json:"accepted"`
		Rejected []any `json:"rejected"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK || a.Accepted != len(batch) {
		t.Fatalf("collector answered %d, %+v (%v); want all %d accepted", resp.StatusCode, a, err, len(batch))
	}
	return len(batch)
}

// producePersons writes three people (one with a registration time, one without, one with a
// mobile) as person feed records, as the feeds gateway would.
func producePersons(t *testing.T, s *stacktest.Stack) {
	t.Helper()
	cl, err := bus.NewClient(s.Bus)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := s.Bus.Topics().Feeds("person")
	if err := bus.EnsureTopics(ctx, cl, s.Bus.Partitions, topic); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	var recs []*kgo.Record
	for i, f := range []map[string]any{
		{"id_card": residentID("51010419850712001"), "name": "张三", "residence_status": "户籍", "region_code": "510104017001",
			"registered_at": "2021-06-01 09:30:00"},
		{"id_card": residentID("51010619900102002"), "name": "李四", "gender": "女", "mobile": "13800138000",
			"residence_status": "2", "region_code": "510104017002", "marital_status": "已婚"},
		{"id_card": residentID("51010519780203003"), "name": "王五", "residence_status": "1", "region_code": "510105002002",
			"address": "锦江区东大街 1 号"},
	} {
		b := mustJSON(t, feedrecord.Record{BatchID: "batch-ch", Source: "gongan", Dataset: "person", Row: int64(i + 1), Fields: f, ReceivedAt: at})
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("gongan"), Value: b})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// residentID completes 17 digits with their ISO 7064 MOD 11-2 check character.
func residentID(first17 string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return first17 + string("10X98765432"[sum%11])
}
