package apiserver

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

const city = "510100000000"

func TestParseRegion(t *testing.T) {
	tests := []struct {
		raw    string // query string
		want   string
		status int // 0: no error
	}{
		{"", city, 0},
		{"region=", city, 0},
		{"region=510104000000", "510104000000", 0},
		{"region=%20510104017001%20", "510104017001", 0},
		{"region=5101", "", http.StatusBadRequest},
		{"region=51010400000a", "", http.StatusBadRequest},
		{"region=5101040000001", "", http.StatusBadRequest},
		{"region=%EF%BC%95101040000", "", http.StatusBadRequest},
		{"region=520100000000", "", http.StatusNotFound},
		{"region=411000000000", "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.raw)
			got, err := parseRegion(q, "region", city)
			if tt.status == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || err.Status != tt.status || err.Field != "region" {
				t.Fatalf("got %q, %+v; want status %d on field region", got, err, tt.status)
			}
		})
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		raw  string
		want int
		ok   bool
	}{
		{"", 14, true}, {"days=1", 1, true}, {"days=366", 366, true}, {"days=%207", 7, true},
		{"days=0", 0, false}, {"days=-3", 0, false}, {"days=367", 0, false}, {"days=7d", 0, false},
		{"days=1e3", 0, false}, {"days=99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.raw)
		got, err := parseDays(q, 14)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("%s: got %d, %v; want %d ok=%v", tt.raw, got, err, tt.want, tt.ok)
		}
		if err != nil && (err.Field != "days" || err.Status != http.StatusBadRequest) {
			t.Errorf("%s: error %+v, want 400 on field days", tt.raw, err)
		}
	}
}

func FuzzParseOverviewQuery(f *testing.F) {
	for _, s := range []string{"", "region=510104000000&days=7", "region=5101", "days=0", "region=%00", "days=１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		code, perr := parseRegion(q, "region", city)
		if perr == nil && (!isRegionCode(code) || code[:4] != city[:4]) {
			t.Fatalf("accepted region %q from %q", code, raw)
		}
		if perr != nil && (perr.Field != "region" || perr.Message == "") {
			t.Fatalf("bad error %+v", perr)
		}
		days, derr := parseDays(q, 14)
		if derr == nil && (days < 1 || days > MaxDays) {
			t.Fatalf("accepted days %d from %q", days, raw)
		}
	})
}

func TestAncestorCodes(t *testing.T) {
	tests := []struct {
		code string
		want []string
	}{
		{"510100000000", nil},
		{"510104000000", []string{"510100000000"}},
		{"510104017000", []string{"510100000000", "510104000000"}},
		{"510104017001", []string{"510100000000", "510104000000", "510104017000"}},
	}
	for _, tt := range tests {
		if got := ancestorCodes(tt.code); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ancestorCodes(%s) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestFillDays(t *testing.T) {
	from := time.Date(2024, 2, 27, 0, 0, 0, 0, time.UTC)
	to := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC) // across a leap day
	got := fillDays(map[string]DayStat{"2024-02-29": {Date: "2024-02-29", ActiveUsers: 2, PageViews: 5}}, from, to)
	want := []DayStat{{Date: "2024-02-27"}, {Date: "2024-02-28"}, {"2024-02-29", 2, 5}, {Date: "2024-03-01"}, {Date: "2024-03-02"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fillDays = %v, want %v", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	mod := func(f func(*Config)) Config { c := DefaultConfig(); f(&c); return c }
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig(), true},
		{"xuchang", mod(func(c *Config) { c.CityCode = "411000000000" }), true},
		{"district as city", mod(func(c *Config) { c.CityCode = "510104000000" }), false},
		{"short city", mod(func(c *Config) { c.CityCode = "5101" }), false},
		{"zero timeout", mod(func(c *Config) { c.QueryTimeout = 0 }), false},
		{"zero days", mod(func(c *Config) { c.TrendDays = 0 }), false},
		{"too many days", mod(func(c *Config) { c.TrendDays = MaxDays + 1 }), false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
