package cleaning

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/pipelines/kafkaio"
	"github.com/citypulse/citypulse/warehouse/standard"
)

// recv is when the test batches arrived.
var recv = time.Date(2025, 3, 4, 23, 30, 0, 0, time.UTC)

// ResidentID completes 17 digits with their ISO 7064 MOD 11-2 check character.
func ResidentID(first17 string) string {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * weights[i]
	}
	return first17 + string("10X98765432"[sum%11])
}

// maleID is a man born 1985-07-12 (odd sequence digit), femaleID a woman born 1990-01-02.
var (
	maleID   = ResidentID("51010419850712001")
	femaleID = ResidentID("51010619900102002")
)

// testKeys are the keys of the tests' cleaners.
var testKeys = Keys{Hash: []byte("test-key-0123456789"), Encryption: []byte("0123456789abcdef0123456789abcdef"), EncryptionID: "k1"}

func newCleaner(t testing.TB) *Cleaner {
	t.Helper()
	std, err := standard.Load()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCleaner(std, Specs["person"], testKeys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func feed(t testing.TB, source string, row int64, fields map[string]any) kafkaio.Record {
	t.Helper()
	b, err := json.Marshal(feedrecord.Record{BatchID: "b-" + source, Source: source, Dataset: "person", Row: row, Fields: fields, ReceivedAt: recv})
	if err != nil {
		t.Fatal(err)
	}
	return kafkaio.Record{Topic: "citypulse.feeds.person.v1", Partition: 1, Offset: 7, Value: b, TimestampMs: recv.UnixMilli()}
}

func person(id string) map[string]any {
	return map[string]any{"id_card": id, "name": "张三", "residence_status": "1", "region_code": "510104017001"}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestCleanValid(t *testing.T) {
	c := newCleaner(t)
	tests := []struct {
		name   string
		fields map[string]any
		want   map[string]string // values of the Cleaned row
		flags  []string
	}{
		{
			name:   "clean as sent, gender and birth date derived",
			fields: person(maleID),
			want: map[string]string{"id_card_masked": "510104********" + maleID[14:], "name": "张三", "gender": "1",
				"birth_date": "1985-07-12", "region_code": "510104017001", "region_code.city": "510100000000",
				"region_code.district": "510104000000", "region_code.street": "510104017000", "region_code.community": "510104017001",
				"source": "s1", "batch_id": "b-s1", "row_no": "3", "mobile_hash": "", "mobile_masked": ""},
			flags: []string{"derived:birth_date", "derived:gender"},
		},
		{
			name: "dirty values fixed, labels mapped",
			fields: with(person(strings.ToLower(femaleID)), "name", " 李四\u3000", "mobile", "１３８ ００１３ ８０００", "gender", "女",
				"birth_date", "1990/1/2", "residence_status", "流动人口", "registered_at", "2024-05-06 07:08:09"),
			want: map[string]string{"id_card_masked": "510106********" + femaleID[14:], "name": "李四", "gender": "2",
				"birth_date": "1990-01-02", "mobile_masked": "138****8000", "residence_status": "2", "registered_at": "2024-05-06 07:08:09"},
			flags: []string{"code_mapped", "dirty_fixed"},
		},
		{
			name:   "an ID sent as a JSON number keeps its digits",
			fields: with(person(maleID), "id_card", json.Number(maleID), "gender", "1", "birth_date", "1985-07-12"),
			want:   map[string]string{"id_card_masked": "510104********" + maleID[14:]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, q := c.Clean(feed(t, "s1", 3, tt.fields))
			if row == nil {
				t.Fatalf("quarantined: %+v", q)
			}
			for k, v := range tt.want {
				if got := row.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !reflect.DeepEqual(row.Flags, tt.flags) {
				t.Errorf("flags = %q, want %q", row.Flags, tt.flags)
			}
			for _, v := range row.Values {
				if strings.Contains(v, maleID) || strings.Contains(v, femaleID) || strings.Contains(v, "13800138000") {
					t.Errorf("a personal number in clear: %q", v)
				}
			}
			if _, err := Specs["person"].Values(*row); err != nil {
				t.Errorf("Values: %v", err)
			}
		})
	}
}

// The identity key depends on the normalised ID only: the same person from two sources (one
// sending dirty values) has one key; another person or another hash key gives another.
func TestIdentityKey(t *testing.T) {
	c := newCleaner(t)
	key := func(c *Cleaner, src string, f map[string]any) string {
		row, q := c.Clean(feed(t, src, 1, f))
		if row == nil {
			t.Fatalf("quarantined: %+v", q)
		}
		if row.Get("id_card_hash") == "" {
			t.Fatal("no id_card_hash")
		}
		return row.Get(MetaIdentityKey)
	}
	a := key(c, "gongan", person(maleID))
	b := key(c, "community", with(person(" "+maleID+" "), "name", "张 三", "mobile", "13800138000"))
	if a != b || len(a) != 64 {
		t.Fatalf("same person, keys %q and %q", a, b)
	}
	if o := key(c, "gongan", person(femaleID)); o == a {
		t.Error("two people share a key")
	}
	std, _ := standard.Load()
	other, _ := NewCleaner(std, Specs["person"], Keys{Hash: []byte("another-key-0123456789"), Encryption: testKeys.Encryption, EncryptionID: "k1"})
	if key(other, "gongan", person(maleID)) == a {
		t.Error("the hash key does not change the identity key")
	}
}

func TestCleanQuarantine(t *testing.T) {
	c := newCleaner(t)
	badSum := maleID[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", maleID[17])+1)%11])
	tests := []struct {
		name  string
		value string // when set, the record's value instead of fields
		f     map[string]any
		want  []string // field:code
	}{
		{name: "bad checksum", f: person(badSum), want: []string{"id_card:format"}},
		{name: "missing name and bad mobile", f: with(person(maleID), "name", nil, "mobile", "12345"), want: []string{"mobile:format", "name:required"}},
		{name: "gender contradicts ID", f: with(person(maleID), "gender", "女"), want: []string{"gender:inconsistent"}},
		{name: "street where a community is due", f: with(person(maleID), "region_code", "510104017000"), want: []string{"region_code:format"}},
		{name: "unknown and nested fields", f: with(person(maleID), "shoe_size", "42", "name", map[string]any{"x": 1}), want: []string{"name:type", "name:required", "shoe_size:unknown_field"}},
		{name: "not JSON", value: "\xff garbage", want: []string{":undecodable"}},
		{name: "another dataset", value: `{"dataset":"house","fields":{}}`, want: []string{":undecodable"}},
		{name: "two values", value: `{"dataset":"person"} {}`, want: []string{":undecodable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := feed(t, "s1", 9, tt.f)
			if tt.value != "" {
				rec.Value = []byte(tt.value)
			}
			row, q := c.Clean(rec)
			if row != nil {
				t.Fatalf("valid: %+v", row)
			}
			var got []string
			for _, r := range q {
				got = append(got, r.Field+":"+r.Code)
				if r.Reason == "" || r.Raw != string(rec.Value) || r.Dataset != "person" {
					t.Errorf("row %+v: want a reason, the raw value and the dataset", r)
				}
				if r.Code == CodeUndecodable && r.BatchID != "kafka:citypulse.feeds.person.v1[1]@7" {
					t.Errorf("undecodable batch_id %q", r.BatchID)
				}
				if r.Code != CodeUndecodable && (r.BatchID != "b-s1" || r.RowNo != 9 || r.Source != "s1" || r.ReceivedAtMs != recv.UnixMilli()) {
					t.Errorf("row %+v: want the record's batch, row, source and receive time", r)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("quarantine %q, want %q", got, tt.want)
			}
			if again, _ := c.Clean(rec); again != nil {
				t.Error("not deterministic")
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, id, mobile string }{
		{"510104198507120011", "510104********0011", "510***********0011"},
		{"13800138000", "13800138000"[:6] + "*" + "8000", "138****8000"},
		{"123", "***", "***"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := MaskIDCard(tt.in); got != tt.id {
			t.Errorf("MaskIDCard(%q) = %q, want %q", tt.in, got, tt.id)
		}
		if got := MaskMobile(tt.in); got != tt.mobile {
			t.Errorf("MaskMobile(%q) = %q, want %q", tt.in, got, tt.mobile)
		}
	}
}

// FuzzClean: any record value, for any dataset, gives either a row whose columns convert (and,
// when routed to staging, whose staged row is valid JSON), or quarantine rows with a field code, a
// reason and the value as raw; never a protected field in clear.
func FuzzClean(f *testing.F) {
	names := slices.Sorted(maps.Keys(Specs))
	cleaners := map[string]*Cleaner{}
	valuers := map[string]*valuer{}
	for _, n := range names {
		cleaners[n] = cleanerOf(f, n)
		valuers[n] = &valuer{spec: Specs[n]}
	}
	idx := func(n string) uint8 { return uint8(slices.Index(names, n)) }
	f.Add(idx("person"), feed(f, "s", 1, person(maleID)).Value)
	f.Add(idx("person"), feed(f, "s", 2, with(person(femaleID), "mobile", "+86 138-0013-8000", "registered_at", "2024/5/6 7:08")).Value)
	f.Add(idx("person"), []byte(`{"dataset":"person","fields":{"id_card":123,"name":true,"region_code":null}}`))
	f.Add(idx("person"), []byte(`{"dataset":"person","row":-1,"received_at":"0001-01-01T00:00:00Z"}`))
	f.Add(idx("person"), []byte(`{"dataset":"person","received_at":"2999-01-01T00:00:00Z","fields":{"id_card":"x"}}`))
	f.Add(idx("person"), feedOf(f, "person", "ref", SourceReference, 1, person(maleID)).Value)
	f.Add(idx("person_house"), feedOf(f, "person_house", "mz", SourceDepartment, 1, relation).Value)
	f.Add(idx("person_house"), feedOf(f, "person_house", "mz", "other", 1, relation).Value)
	f.Add(idx("survey"), feedOf(f, "survey", "s", "", 1, map[string]any{"response_id": "R", "survey_id": "S", "survey_title": "t",
		"category": "1", "region_code": "510104017001", "submitted_at": "2025-03-02 10:00:00", "completed": "1"}).Value)
	f.Add(idx("org"), feedOf(f, "org", "s", SourceReference, 1, map[string]any{"uscc": "91350100M000100Y43", "name": "n", "org_type": "1",
		"region_code": "510104017001", "legal_person": "王小明"}).Value)
	f.Add(uint8(0), []byte("\xff"))
	f.Fuzz(func(t *testing.T, ds uint8, value []byte) {
		name := names[int(ds)%len(names)]
		spec := Specs[name]
		rec := kafkaio.Record{Topic: "t", Value: value, TimestampMs: recv.UnixMilli()}
		row, q := cleaners[name].Clean(rec)
		if (row == nil) == (len(q) == 0) {
			t.Fatalf("row %v and %d quarantine rows", row, len(q))
		}
		// The fast path gives exactly what the reference (a map per record) gives.
		refRow, refQ := cleaners[name].cleanRef(rec)
		if !reflect.DeepEqual(row, refRow) || !reflect.DeepEqual(q, refQ) {
			t.Fatalf("%q:\n got %+v %+v\nwant %+v %+v", value, row, q, refRow, refQ)
		}
		if row != nil {
			want, err := spec.Values(*row)
			if err != nil {
				t.Fatalf("Values: %v", err)
			}
			if got, err := valuers[name].values(row); err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("valuer: %v, %v\nwant %v", got, err, want)
			}
			for i, n := range row.Names {
				if _, protected := spec.Protect[n]; protected || !utf8.ValidString(row.Values[i]) {
					t.Fatalf("column %s = %q", n, row.Values[i])
				}
			}
			if row.Route != RouteDWD {
				st, err := spec.Stage(*row)
				if err != nil || !json.Valid([]byte(st.Row)) || len(st.RequestID) != 64 {
					t.Fatalf("Stage = %+v, %v", st, err)
				}
			}
		}
		for _, r := range q {
			if r.Code == "" || r.Reason == "" || r.Raw != string(value) {
				t.Fatalf("quarantine row %+v", r)
			}
			if at := r.Values(time.Now())[1].(time.Time); at.After(maxTime) {
				t.Fatalf("received_at %s out of range", at)
			}
		}
	})
}
