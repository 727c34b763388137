package apiserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseViolationsQuery(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2025, 3, day, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		raw      string
		from, to time.Time // zero: not decided by the parser
		source   string
		field    string // the parameter an error names; "" for no error
	}{
		{raw: ""},
		{raw: "from=2025-03-03&to=2025-03-05", from: d(3), to: d(5)},
		{raw: "from=2025-03-05&to=2025-03-05&source=%20h5%20", from: d(5), to: d(5), source: "h5"},
		{raw: "to=2025-03-05", from: d(5).AddDate(0, 0, 1-DefaultViolationDays), to: d(5)},
		{raw: "from=2025-03-03", from: d(3)},
		{raw: "from=2024-03-05&to=2025-03-05", from: time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), to: d(5)}, // 366 days
		{raw: "from=2024-03-04&to=2025-03-05", field: "from"},                                               // 367 days
		{raw: "from=2025-03-06&to=2025-03-05", field: "from"},
		{raw: "from=2025-3-3", field: "from"},
		{raw: "to=2025-02-30", field: "to"},
		{raw: "to=yesterday", field: "to"},
		{raw: "from=1969-12-31&to=2025-01-01", field: "from"},
		{raw: "to=2106-01-01", field: "to"},
		{raw: "to=1970-01-03", from: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), to: time.Date(1970, 1, 3, 0, 0, 0, 0, time.UTC)},
		{raw: "source=" + strings.Repeat("a", maxSourceLen+1), field: "source"},
		{raw: "source=%FF", field: "source"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := url.ParseQuery(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, perr := parseViolationsQuery(q)
			if tt.field != "" {
				if perr == nil || perr.Field != tt.field || perr.Status != http.StatusBadRequest || perr.Message == "" {
					t.Fatalf("error %+v, want 400 naming %s", perr, tt.field)
				}
				return
			}
			if perr != nil {
				t.Fatalf("error %+v", perr)
			}
			if !got.From.Equal(tt.from) || !got.To.Equal(tt.to) || got.Source != tt.source {
				t.Fatalf("got %+v, want from %s to %s source %q", got, tt.from, tt.to, tt.source)
			}
		})
	}
}

func FuzzParseViolationsQuery(f *testing.F) {
	for _, s := range []string{"", "from=2025-03-03&to=2025-03-05&source=h5", "from=2025-3-3", "to=2025-02-30",
		"from=2030-01-01", "from=0000-01-01&to=9999-12-31", "source=%00%FF", "to=2025-03-05"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		vq, perr := parseViolationsQuery(q)
		if perr != nil {
			if perr.Status != http.StatusBadRequest || perr.Message == "" || (perr.Field != "from" && perr.Field != "to" && perr.Field != "source") {
				t.Fatalf("bad error %+v from %q", perr, raw)
			}
			return
		}
		if len(vq.Source) > maxSourceLen {
			t.Fatalf("accepted a %d-byte source", len(vq.Source))
		}
		if !vq.To.IsZero() {
			if vq.From.After(vq.To) || spanDays(vq.From, vq.To) > MaxDays || vq.From.Before(minDate) || vq.To.After(maxDate) {
				t.Fatalf("accepted window %s … %s from %q", vq.From, vq.To, raw)
			}
		}
	})
}
