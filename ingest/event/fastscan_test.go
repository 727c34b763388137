package event

import (
	"bytes"
	"reflect"
	"testing"
)

// fastScanCases are inputs where the fast scanner must give up or agree with jsontext.
var fastScanCases = []string{
	`{"batch":[{"type":"track","event":"e","userId":"u"}]}`,
	`{ "batch" : [ { "type" : "track" , "context" : { "app" : { "version" : "1.2" } , "region_code" : 510104017001 } } ] , "sentAt" : null }`,
	`{"batch":[1,-0.5e+10,true,false,null,"s\n\u00e9",[],{},[[1,[2]]]]}`,
	`{"batch":[{"context":{"region_code":"1","region_code":"2","service_id":3,"ip":"1.2.3.4","server":{},"userAgent":"x"}}]}`,
	`{"batch":[{"properties":{"service_id":"7"},"context":"x","traits":{"a":1}}],"context":{"a":1},"batch":[]}`,
	`{"batch":[{"type":"tr\u0061ck"}],"context":{"\u0061":1}}`,
	`{"b\u0061tch":[]}`, `{"batch":[{"messageId":"\ud800"}]}`, `{"batch":[{"x":"a` + "\x01" + `"}]}`,
	`{"batch":[01]}`, `{"batch":[1.]}`, `{"batch":[-]}`, `{"batch":[tru]}`, `{"batch":[nul]}`, `{"batch":[1,]}`,
	`{"batch":[{"a":1,}]}`, `{"batch":[{"a" 1}]}`, `{"batch":[]}x`, `{"batch":[]} {}`, `{"batch":{}}`, `{"batch":null}`,
	`{"batch":["\x"]}`, `{"batch":["\u12"]}`, `{"batch":["` + "\xff\xfe" + `"]}`, `{"batch":[1e5,1E-5,0.0]}`,
	`{"batch":[` + string(bytes.Repeat([]byte("["), 300)) + string(bytes.Repeat([]byte("]"), 300)) + `]}`,
	`{"batch":[{"context":{"app":{"version":"1"},"ip":"x","region_code":"1","userAgent":"u"}},{"context":{"app":{"version":"1"},"ip":"x","region_code":"1","userAgent":"u"}},{"type":"page","context":{"app":{"version":"1"},"ip":"x","region_code":"1","userAgent":"u"},"x":[{"context":{"app":{"version":"1"},"ip":"x","region_code":"1","userAgent":"u"}}]}]}`,
	`{"batch":[{"context":{"service_id":1,"app":{"version":2}}},{"context":{"service_id":1,"app":{"version":2}}x}]}`,
	`{"batch":[{"context":{"a":{}}},{"context":{"a":{}},"context":{"a":{}}},{"properties":{"a":{}},"context":{"a":{}}}]}`,
	`{}`, `{"batch":[{}]`, `{"batch":[{"app":{"version":1}},{"context":{"app":{"version":"v1","version":2}}}]}`,
}

// TestFastScanAgrees checks the seeds of FuzzFastScan.
func TestFastScanAgrees(t *testing.T) {
	for _, s := range append(fastScanCases, fuzzSeeds...) {
		checkFastScan(t, []byte(s))
	}
}

// FuzzFastScan: whenever the fast scanner accepts an input, jsontext accepts it too and both
// return the same members.
func FuzzFastScan(f *testing.F) {
	for _, s := range append(fastScanCases, fuzzSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(checkFastScan)
}

func checkFastScan(t *testing.T, body []byte) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return
	}
	if fast, ok := fastScanBatch(trimmed); ok {
		slow, err := slowScanBatch(trimmed)
		if err != nil {
			t.Fatalf("%q: fast scanner accepts, jsontext says %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, jsontext %+v", body, fast, slow)
		}
	}
	if fast, ok := fastScanItem(trimmed); ok {
		s := getScanner(trimmed)
		slow, err := s.readItem()
		if err == nil {
			err = s.end()
		}
		putScanner(s)
		if err != nil {
			t.Fatalf("%q: fast scanner accepts the item, jsontext says %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast item %+v, jsontext %+v", body, fast, slow)
		}
	}
}

// TestFastScanTakesCommonBodies: the bodies SDKs send take the fast path.
func TestFastScanTakesCommonBodies(t *testing.T) {
	for _, s := range []string{string(benchBatch()), fuzzSeeds[0], fuzzSeeds[1], fuzzSeeds[15]} {
		if _, ok := fastScanBatch([]byte(s)); !ok {
			t.Errorf("fast scanner gives up on %.80s…", s)
		}
	}
}

// BenchmarkScanBatch compares the fast scanner with jsontext on the same batch.
func BenchmarkScanBatch(b *testing.B) {
	body := benchBatch()
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastScanBatch(body); !ok {
				b.Fatal("gave up")
			}
		}
	})
	b.Run("jsontext", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := slowScanBatch(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
