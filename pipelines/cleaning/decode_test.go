package cleaning

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
)

// decodeSeeds are feed records in and around the canonical shape.
var decodeSeeds = []string{
	`{"batch_id":"b","source":"s","source_kind":"community","dataset":"person","row":3,"fields":{"name":"张三","n":12.5e3,"t":true,"f":false,"z":null},"unmapped":{"x":"1"},"standard_version":"1","received_at":"2025-03-04T23:30:00Z"}`,
	`{"batch_id":"b","source":"s","dataset":"person","row":3,"fields":{},"received_at":"2025-03-04T23:30:00.123+08:00"}`,
	` { "dataset" : "person" , "fields" : { "a\"b" : "c\u00e9\ud83d\ude00" } } `,
	`{"dataset":"person","fields":{"a":{"nested":1}}}`,
	`{"dataset":"person","fields":{"a":[1]}}`,
	`{"dataset":"person","Fields":{"a":"1"}}`,
	`{"dataset":"person","dataset":"house"}`,
	`{"dataset":"person","fields":{"a":"1","a":"2"}}`,
	`{"dataset":"person","row":1.5}`,
	`{"dataset":"person","row":"1"}`,
	`{"dataset":"person","row":-0}`,
	`{"dataset":"person","row":01}`,
	`{"dataset":"person","source":null}`,
	`{"dataset":"person","fields":null}`,
	`{"dataset":"person","other":1}`,
	`{"dataset":"person"}}`,
	`{"dataset":"person"} {}`,
	`{"dataset":"per` + "\xff" + `son","fields":{"a":"` + "\xfe" + `"}}`,
	`{"dataset":"person","received_at":"2025-13-04T23:30:00Z"}`,
	`{"dataset":"person","received_at":"\u0032025-03-04T23:30:00Z"}`,
	`{"dataset":"person","fields":{"a":"tab	in"}}`,
	`{}`, `[]`, `null`, ``, `{`, `{"dataset"`,
}

// FuzzDecodeRecord holds the fast decoder to encoding/json: whenever it accepts a record, it
// gives what the reference decoder gives.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, err := decodeFast(b)
		if err != nil {
			return
		}
		slow, serr := decodeSlow(b)
		if serr != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", serr, b)
		}
		if !fast.fr.ReceivedAt.Equal(slow.fr.ReceivedAt) {
			t.Fatalf("received_at %v, want %v", fast.fr.ReceivedAt, slow.fr.ReceivedAt)
		}
		fast.fr.ReceivedAt, slow.fr.ReceivedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", b, fast, slow)
		}
	})
}

// TestDecodeRecordCanonical: what the gateway writes takes the fast path.
func TestDecodeRecordCanonical(t *testing.T) {
	b, err := json.Marshal(feedrecord.Record{BatchID: "b", Source: "s", SourceKind: "department", Dataset: "person", Row: 9,
		Fields: map[string]any{"name": " 张<三> ", "id": json.Number("510104198507120011"), "x": nil}, Unmapped: map[string]any{"k": "v"},
		StandardVersion: "2", ReceivedAt: recv})
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeFast(b)
	if err != nil {
		t.Fatalf("fast path refused %s: %v", b, err)
	}
	want := map[string]string{"name": " 张<三> ", "id": "510104198507120011", "x": ""}
	if !reflect.DeepEqual(d.fields, want) || !d.unmapped || d.fr.Row != 9 || d.fr.SourceKind != "department" || !d.fr.ReceivedAt.Equal(recv) {
		t.Errorf("got %+v", d)
	}
}
