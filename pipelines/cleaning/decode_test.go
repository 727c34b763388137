package cleaning

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/warehouse/standard"
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

// personDataset is the person dataset of the standard, whose rows the decode tests fill.
func personDataset(t testing.TB) *standard.Dataset {
	t.Helper()
	std, err := standard.Load()
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := std.Dataset("person")
	return ds
}

// decodedRow is what a decode gave: the header, the row's raw values and its unknown names
// (sorted, each once, as Validate reads them), and the errors by field.
type decodedRow struct {
	d       decoded
	raw     []string
	unknown []string
}

func snapshot(d decoded, row *standard.Row) decodedRow {
	d.src = ""
	sort.Slice(d.errs, func(i, j int) bool { return d.errs[i].Field < d.errs[j].Field })
	u := slices.Compact(slices.Sorted(slices.Values(row.Unknown)))
	return decodedRow{d: d, raw: slices.Clone(row.Raw), unknown: u}
}

// FuzzDecodeRecord holds the fast decoder to encoding/json: whenever it accepts a record, it
// gives what the reference decoder gives. The rows are reused across inputs, as Clean does.
func FuzzDecodeRecord(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	ds := personDataset(f)
	fastRow, slowRow := ds.NewRow(), ds.NewRow()
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, err := decodeFast(b, fastRow)
		if err != nil {
			return
		}
		if fast.src != string(b) {
			t.Fatalf("src %q, want %q", fast.src, b)
		}
		slow, serr := decodeSlow(b, slowRow)
		if serr != nil {
			t.Fatalf("fast path accepted what encoding/json refuses (%v): %q", serr, b)
		}
		if !fast.fr.ReceivedAt.Equal(slow.fr.ReceivedAt) {
			t.Fatalf("received_at %v, want %v", fast.fr.ReceivedAt, slow.fr.ReceivedAt)
		}
		fast.fr.ReceivedAt, slow.fr.ReceivedAt = time.Time{}, time.Time{}
		if got, want := snapshot(fast, fastRow), snapshot(slow, slowRow); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", b, got, want)
		}
	})
}

// TestDecodeRecordCanonical: what the gateway writes takes the fast path.
func TestDecodeRecordCanonical(t *testing.T) {
	b, err := json.Marshal(feedrecord.Record{BatchID: "b", Source: "s", SourceKind: "department", Dataset: "person", Row: 9,
		Fields: map[string]any{"name": " 张<三> ", "id_card": json.Number("510104198507120011"), "x": nil}, Unmapped: map[string]any{"k": "v"},
		StandardVersion: "2", ReceivedAt: recv})
	if err != nil {
		t.Fatal(err)
	}
	ds := personDataset(t)
	row := ds.NewRow()
	d, err := decodeFast(b, row)
	if err != nil {
		t.Fatalf("fast path refused %s: %v", b, err)
	}
	want := make([]string, len(ds.Fields))
	name, _ := ds.Index("name")
	id, _ := ds.Index("id_card")
	want[name], want[id] = " 张<三> ", "510104198507120011"
	if !reflect.DeepEqual(row.Raw, want) || !reflect.DeepEqual(row.Unknown, []string{"x"}) || !d.unmapped || d.fr.Row != 9 ||
		d.fr.SourceKind != "department" || !d.fr.ReceivedAt.Equal(recv) || d.src != string(b) {
		t.Errorf("got %+v, raw %q, unknown %q", d, row.Raw, row.Unknown)
	}
}
