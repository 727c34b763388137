package event

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

var fastTimeSeeds = []string{
	`"2024-05-01T08:30:00Z"`, `"2024-05-01T08:30:00.1Z"`, `"2024-05-01T08:30:00.123456789Z"`, `"2024-05-01T08:30:00.1234567891Z"`,
	`"2024-02-29T23:59:59Z"`, `"2023-02-29T00:00:00Z"`, `"2024-04-31T00:00:00Z"`, `"2024-13-01T00:00:00Z"`, `"2024-00-01T00:00:00Z"`,
	`"2024-05-01T24:00:00Z"`, `"2024-05-01T08:60:00Z"`, `"2024-05-01T08:30:60Z"`, `"0000-01-01T00:00:00Z"`, `"0001-01-01T00:00:00Z"`,
	`"9999-12-31T23:59:59.999999999Z"`, `"2024-05-01T08:30:00.Z"`, `"2024-05-01T08:30:00+08:00"`, `"2024-05-01 08:30:00Z"`,
	`"2024-05-01T08:30:00z"`, `"2024-5-01T08:30:00Z"`, `"+024-05-01T08:30:00Z"`, `"2024-05-01T08:30:00.-1Z"`, `"2024-05-01T08:30:00\u005a"`,
	`"2024-05-01"`, `2024`, `null`, `"２０２４-05-01T08:30:00Z"`, `"2024-05-01T08:30:00.000000000Z"`,
}

// FuzzFastTime: whenever fastTime reads a value, time.Parse agrees.
func FuzzFastTime(f *testing.F) {
	for _, s := range fastTimeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastTime(json.RawMessage(s))
		if !ok {
			return
		}
		str, isStr := jsonString(json.RawMessage(s))
		want, err := time.Parse(time.RFC3339Nano, str)
		if !isStr || err != nil {
			t.Fatalf("fastTime(%s) = %v, time.Parse: %v", s, got, err)
		}
		if !got.Equal(want) || got != want.UTC() {
			t.Fatalf("fastTime(%s) = %v, time.Parse %v", s, got, want)
		}
	})
}

func TestFastTime(t *testing.T) {
	taken := 0
	for _, s := range fastTimeSeeds {
		got, ok := fastTime(json.RawMessage(s))
		str, _ := jsonString(json.RawMessage(s))
		want, err := time.Parse(time.RFC3339Nano, str)
		if ok {
			taken++
			if err != nil || got != want.UTC() {
				t.Errorf("fastTime(%s) = %v, time.Parse %v, %v", s, got, want, err)
			}
		}
	}
	if taken < 6 {
		t.Errorf("fast path taken for %d seeds only", taken)
	}
}

// FuzzFastService: whenever fastService reads a service_id, slowService agrees.
func FuzzFastService(f *testing.F) {
	for _, s := range []string{`1`, `0`, `007`, `4294967295`, `4294967296`, `00000000004294967295`, `99999999999999999999999`, `"7"`, `-1`, `1.0`, `1e3`, `"0042"`, `"4294967296"`, `"0"`, `""`, `"12a"`, `" 7"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := fastService(json.RawMessage(s))
		if !ok {
			return
		}
		want, reason := slowService(json.RawMessage(s))
		if reason != "" || !bytes.Equal(got, want) {
			t.Fatalf("fastService(%s) = %s, slowService %s %q", s, got, want, reason)
		}
	})
}

func TestFastRegion(t *testing.T) {
	for _, s := range []string{`"510104017001"`, `"51010401700"`, `510104017001`, `"51010401700a"`, `"5101040170\u0030"`, `"５１０１０４０１７００１"`} {
		want, reason := json.RawMessage(nil), ""
		if !fastRegion(json.RawMessage(s)) {
			continue
		}
		// the fast path only says "canonical": the general code must agree
		code, _ := jsonString(json.RawMessage(s))
		if !allDigits(code) || len(code) != RegionCodeLen || strconv.Quote(code) != s {
			t.Errorf("fastRegion(%s) = canonical, want %s %q", s, want, reason)
		}
	}
}

// FuzzAppendTime: appendTime writes what time.Time's MarshalJSON writes, for any instant and
// zone (the fast path takes UTC).
func FuzzAppendTime(f *testing.F) {
	for _, s := range [][2]int64{{0, 0}, {1714552200, 123000000}, {-62135596800, 0}, {253402300799, 999999999}, {951782400, 1}, {-1, 5}, {-62135596801, 0}, {253402300800, 0}} {
		f.Add(s[0], s[1], false)
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64, zone bool) {
		tm := time.Unix(sec, nsec).UTC()
		if zone {
			tm = tm.In(time.FixedZone("CST", 8*3600))
		}
		want, err := tm.MarshalJSON()
		got := appendTime(nil, tm)
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("appendTime(%v) = %s, MarshalJSON %s", tm, got, want)
		}
		// With a day memo, after a time on the same day, the previous day and the next.
		for _, prev := range []time.Time{tm.Add(-time.Duration(nsec % 86400e9)), tm.AddDate(0, 0, -1), tm.AddDate(0, 0, 1)} {
			var m dayMemo
			appendTimeDay(nil, prev.UTC(), &m)
			if got := appendTimeDay(nil, tm, &m); err == nil && !bytes.Equal(got, want) {
				t.Fatalf("appendTimeDay(%v) after %v = %s, MarshalJSON %s", tm, prev, got, want)
			}
		}
	})
}

// FuzzAppendString: appendString writes a JSON string that decodes to what json.Marshal's does.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain-ascii-id-0123456789", `a"b`, `12345678\`, "1234567\x01", "办事指南 Service", "\xff\xfe", "<&>", "\x7f1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		var got, back string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Fatalf("appendString(%q) = %s: %v", s, appendString(nil, s), err)
		}
		_ = json.Unmarshal(want, &back)
		if got != back {
			t.Fatalf("appendString(%q) decodes to %q, json.Marshal's to %q", s, got, back)
		}
	})
}
