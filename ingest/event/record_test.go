package event

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// records are events as the collector writes them to the events topic: every fuzz seed
// parsed with an origin and encoded.
func records(t testing.TB) [][]byte {
	var out [][]byte
	var enc Encoder
	for _, body := range append(fuzzSeeds, string(benchBatch())) {
		r := Request{Now: now, Source: src, Origin: &Origin{IP: "198.51.100.7", UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"}}
		evs, _, err := r.ParseBatch([]byte(body))
		if err != nil {
			continue
		}
		for i := range evs {
			out = append(out, enc.Append(nil, &evs[i]))
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d records from the seeds", len(out))
	}
	return out
}

// checkDecode fails unless DecodeRecord gives what json.Unmarshal gives.
func checkDecode(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	var want, got Event
	wantErr := json.Unmarshal(data, &want)
	got.Name = "stale" // DecodeRecord must reset e
	gotErr := DecodeRecord(data, &got)
	if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
		t.Fatalf("%q: error %v, encoding/json %v", data, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got  %+v\n want %+v", data, got, want)
	}
	var e Event
	return decodeFast(data, &e)
}

func TestDecodeRecord(t *testing.T) {
	for _, r := range records(t) {
		// The encoder's records take the fast path unless a string has an escape.
		if !checkDecode(t, r) && !bytes.Contains(r, []byte(`\`)) {
			t.Errorf("slow path: %s", r)
		}
	}
	for _, tc := range []struct {
		name, in string
		fast     bool
	}{
		{"minimal", `{"messageId":"m","type":"track","timestamp":"2024-05-01T08:30:00Z","receivedAt":"2024-05-01T08:30:00.5Z","source":"s"}`, true},
		{"offset time", `{"messageId":"m","timestamp":"2024-05-01T08:30:00+08:00"}`, true},
		{"plan flags", `{"messageId":"m","planFlags":["unknown_event","x"]}`, true},
		{"empty plan flags", `{"planFlags":[]}`, true},
		{"repeated member", `{"messageId":"a","messageId":"b","context":{"a":1},"context":{"b":2}}`, true},
		{"utf-8", `{"name":"首页","properties":{"title":"首页"}}`, true},
		{"escaped string", `{"messageId":"a\"b"}`, false},
		{"escaped name", `{"message\u0049d":"a"}`, false},
		{"other case", `{"MessageID":"a"}`, false},
		{"unknown member", `{"messageId":"a","extra":1}`, false},
		{"null context", `{"context":null}`, false},
		{"null string", `{"messageId":null}`, false},
		{"number for string", `{"userId":7}`, false},
		{"bad time", `{"timestamp":"yesterday"}`, false},
		{"null time", `{"timestamp":null}`, false},
		{"invalid utf-8", "{\"name\":\"\xff\"}", false},
		{"trailing data", `{"messageId":"a"} x`, false},
		{"syntax error", `{"messageId":"a",}`, false},
		{"not an object", `["messageId"]`, false},
		{"empty", ``, false},
		{"bad flags", `{"planFlags":[1]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkDecode(t, []byte(tc.in)); got != tc.fast {
				t.Errorf("fast path %v, want %v", got, tc.fast)
			}
		})
	}
}

// FuzzDecodeRecord: DecodeRecord agrees with json.Unmarshal on any input.
func FuzzDecodeRecord(f *testing.F) {
	for _, r := range records(f) {
		f.Add(r)
	}
	f.Add([]byte(`{"messageId":"m","timestamp":"2024-05-01T08:30:00+08:00","planFlags":["a"],"traits":{"x":[1,{"y":null}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

// BenchmarkDecodeRecord compares DecodeRecord with json.Unmarshal on the same records, in the
// same run (the ratio is the figure).
func BenchmarkDecodeRecord(b *testing.B) {
	recs := records(b)
	var e Event
	for _, bc := range []struct {
		name   string
		decode func([]byte, *Event) error
	}{
		{"DecodeRecord", DecodeRecord},
		{"json.Unmarshal", func(d []byte, e *Event) error { *e = Event{}; return json.Unmarshal(d, e) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := bc.decode(recs[i%len(recs)], &e); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
