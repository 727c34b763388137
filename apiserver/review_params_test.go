package apiserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/citypulse/citypulse/warehouse/review"
)

func TestParseChangesQuery(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.ParseInLocation(dateLayout, s, chinaTime); return d }
	tests := []struct {
		raw   string
		want  review.ListQuery
		field string // "" = accepted
	}{
		{"", review.ListQuery{Limit: review.DefaultLimit}, ""},
		{"dataset=person_house&region=510104017001&limit=10&after=1.ab",
			review.ListQuery{Dataset: "person_house", Region: "510104017001", Limit: 10, After: "1.ab"}, ""},
		{"region=510104000000", review.ListQuery{Region: "510104", Limit: review.DefaultLimit}, ""},
		{"region=510104017000", review.ListQuery{Region: "510104017", Limit: review.DefaultLimit}, ""},
		{"region=510100000000", review.ListQuery{Region: "5101", Limit: review.DefaultLimit}, ""},
		{"from=2025-03-01&to=2025-03-01", review.ListQuery{From: day("2025-03-01"), To: day("2025-03-02"), Limit: review.DefaultLimit}, ""},
		{"from=2025-03-01T08:00:00%2B08:00", review.ListQuery{From: day("2025-03-01").Add(8 * time.Hour), Limit: review.DefaultLimit}, ""},
		{"dataset=Person", review.ListQuery{}, "dataset"},
		{"dataset=1x", review.ListQuery{}, "dataset"},
		{"region=5101", review.ListQuery{}, "region"},
		{"region=520100000000", review.ListQuery{}, "region"},
		{"from=yesterday", review.ListQuery{}, "from"},
		{"to=2025-02-30", review.ListQuery{}, "to"},
		{"from=1960-01-01", review.ListQuery{}, "from"},
		{"from=2025-03-02&to=2025-03-01", review.ListQuery{}, "from"},
		{"limit=0", review.ListQuery{}, "limit"},
		{"limit=501", review.ListQuery{}, "limit"},
		{"after=%00", review.ListQuery{}, "after"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.raw)
		got, perr := parseChangesQuery(q, city)
		switch {
		case tt.field == "" && perr != nil:
			t.Errorf("%s: %v", tt.raw, perr)
		case tt.field != "" && (perr == nil || perr.Field != tt.field || perr.Message == ""):
			t.Errorf("%s: error %+v, want one on %s", tt.raw, perr, tt.field)
		case tt.field == "" && (got.Dataset != tt.want.Dataset || got.Region != tt.want.Region || !got.From.Equal(tt.want.From) ||
			!got.To.Equal(tt.want.To) || got.After != tt.want.After || got.Limit != tt.want.Limit):
			t.Errorf("%s: got %+v, want %+v", tt.raw, got, tt.want)
		}
	}
}

func TestParseDecision(t *testing.T) {
	tests := []struct {
		header, body     string
		reject           bool
		reviewer, field  string
		status           int
		comment          string
		wantErrorMessage bool
	}{
		{header: "王社工", body: "", reviewer: "王社工"},
		{body: `{"reviewer":"王社工","comment":"核实"}`, reviewer: "王社工", comment: "核实"},
		{header: "王社工", body: `{"reviewer":"王社工"}`, reviewer: "王社工"},
		{header: "王社工", body: `{"comment":"不符"}`, reject: true, reviewer: "王社工", comment: "不符"},
		{header: "王社工", body: ``, reject: true, field: "comment"},
		{header: "王社工", body: `{"comment":" "}`, reject: true, field: "comment"},
		{body: `{"comment":"x"}`, field: "reviewer"},
		{header: "甲", body: `{"reviewer":"乙"}`, field: "reviewer"},
		{header: "甲", body: `{"reviewer":"甲","extra":1}`, field: "", status: http.StatusBadRequest},
		{header: "甲", body: `{"reviewer":"甲"} {}`, field: "", status: http.StatusBadRequest},
		{header: "甲", body: `[1]`, field: "", status: http.StatusBadRequest},
		{header: "甲", body: `{"comment":"` + strings.Repeat("长", 700) + `"}`, field: "comment"},
		{header: "甲", body: `{"comment":"` + strings.Repeat("x", maxDecisionBody) + `"}`, status: http.StatusRequestEntityTooLarge},
	}
	for i, tt := range tests {
		reviewer, comment, perr := parseDecision(tt.header, strings.NewReader(tt.body), tt.reject)
		wantErr := tt.field != "" || tt.status != 0
		if (perr != nil) != wantErr {
			t.Errorf("%d: error %+v, want error %v", i, perr, wantErr)
			continue
		}
		if perr != nil {
			status := tt.status
			if status == 0 {
				status = http.StatusBadRequest
			}
			if perr.Field != tt.field || perr.Status != status || perr.Message == "" {
				t.Errorf("%d: error %+v, want %d on %q", i, perr, status, tt.field)
			}
			continue
		}
		if reviewer != tt.reviewer || comment != tt.comment {
			t.Errorf("%d: got %q %q, want %q %q", i, reviewer, comment, tt.reviewer, tt.comment)
		}
	}
}

func TestParseCompareQuery(t *testing.T) {
	tests := []struct {
		raw   string
		field string
	}{
		{"dataset=person&batch=b1", ""},
		{"dataset=person&source=minzheng&region=510104017001&missing_from_reference=true&status=missing_in_reference&limit=5&after=abc", ""},
		{"dataset=person&batch=b1&missing_from_reference=0", ""},
		{"batch=b1", "dataset"},
		{"dataset=person", "batch"},
		{"dataset=person&batch=b1&status=same", "status"},
		{"dataset=person&batch=b1&status=missing_in_reference", "status"},
		{"dataset=person&batch=b1&missing_from_reference=maybe", "missing_from_reference"},
		{"dataset=person&batch=b1&region=51", "region"},
		{"dataset=person&batch=%01", "batch"},
		{"dataset=person&batch=b1&limit=x", "limit"},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.raw)
		got, perr := parseCompareQuery(q, city)
		switch {
		case tt.field == "" && perr != nil:
			t.Errorf("%s: %v", tt.raw, perr)
		case tt.field != "" && (perr == nil || perr.Field != tt.field):
			t.Errorf("%s: error %+v, want one on %s", tt.raw, perr, tt.field)
		case tt.field == "" && got.Dataset != "person":
			t.Errorf("%s: got %+v", tt.raw, got)
		}
	}
}

func FuzzParseChangesQuery(f *testing.F) {
	for _, s := range []string{"", "dataset=person_house&region=510104017001&from=2025-03-01&to=2025-03-02&limit=5&after=1.ab",
		"from=2025-03-01T08:00:00Z", "region=5101", "limit=-1", "to=9999-12-31", "dataset=%E4%BA%BA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lq, perr := parseChangesQuery(q, city)
		if perr != nil {
			if perr.Status != http.StatusBadRequest && perr.Status != http.StatusNotFound || perr.Message == "" {
				t.Fatalf("bad error %+v", perr)
			}
			return
		}
		if lq.Limit < 1 || lq.Limit > review.MaxLimit || (lq.Region != "" && !strings.HasPrefix(lq.Region, city[:4])) ||
			!utf8.ValidString(lq.After) || (!lq.From.IsZero() && !lq.To.IsZero() && !lq.From.Before(lq.To)) {
			t.Fatalf("accepted %+v from %q", lq, raw)
		}
	})
}

func FuzzParseCompareQuery(f *testing.F) {
	for _, s := range []string{"dataset=person&batch=b1", "dataset=person&source=s&missing_from_reference=1&status=missing_in_reference",
		"dataset=person&batch=b&region=510104000000&after=ab&limit=500", "dataset=&batch=", "dataset=person&batch=%FF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cq, perr := parseCompareQuery(q, city)
		if perr != nil {
			if perr.Message == "" {
				t.Fatalf("bad error %+v", perr)
			}
			return
		}
		if cq.Dataset == "" || (cq.Batch == "" && cq.Source == "") || cq.Limit < 1 || cq.Limit > review.MaxLimit ||
			!utf8.ValidString(cq.Batch+cq.Source+cq.After) || (cq.Status == review.CompareMissingInReference && !cq.MissingFromReference) {
			t.Fatalf("accepted %+v from %q", cq, raw)
		}
	})
}

func FuzzParseDecision(f *testing.F) {
	for _, s := range []string{"", `{"reviewer":"王社工","comment":"核实"}`, `{"comment":""}`, `{"reviewer":1}`, `{} {}`, `null`, `"x"`} {
		f.Add("王社工", s, false)
		f.Add("", s, true)
	}
	f.Fuzz(func(t *testing.T, header, body string, reject bool) {
		reviewer, comment, perr := parseDecision(header, strings.NewReader(body), reject)
		if perr != nil {
			if perr.Message == "" {
				t.Fatalf("bad error %+v", perr)
			}
			return
		}
		if review.CheckReviewer(reviewer) != nil || review.CheckComment(comment, reject) != nil {
			t.Fatalf("accepted reviewer %q comment %q (reject %v)", reviewer, comment, reject)
		}
	})
}
