package simulate

import (
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/config"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 6, 17, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"1", time.Second},
		{"7", 7 * time.Second},
		{"-3", 0},
		{"3600", maxRetryAfter},
		{"soon", 0},
		{now.Add(4 * time.Second).Format(http.TimeFormat), 4 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(time.Hour).Format(http.TimeFormat), maxRetryAfter},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "120", "-1", "Mon, 17 Jun 2024 08:00:04 GMT", "99999999999999999999", "1.5"} {
		f.Add(s)
	}
	now := time.Date(2024, 6, 17, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		if d := retryAfter(h, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %v, outside [0, %v]", h, d, maxRetryAfter)
		}
	})
}

func TestParseAnswer(t *testing.T) {
	tests := []struct {
		body                   string
		n                      int
		wantAccepted, wantRejd int
	}{
		{`{"accepted":10,"rejected":[]}`, 10, 10, 0},
		{`{"accepted":8,"rejected":[{"index":1,"reason":"x"},{"index":4,"reason":"y"}]}`, 10, 8, 2},
		{`{"rejected":[{"index":1}]}`, 10, 9, 1},
		{`{"accepted":-4}`, 3, 3, 0},
		{``, 5, 5, 0},
		{`ok`, 5, 5, 0},
		{`{"accepted":"many"}`, 5, 5, 0},
		{`{"rejected":[1,2,3,4,5,6]}`, 5, 0, 6},
	}
	for _, tt := range tests {
		acc, rej := parseAnswer([]byte(tt.body), tt.n)
		if acc != tt.wantAccepted || len(rej) != tt.wantRejd {
			t.Errorf("parseAnswer(%q, %d) = %d, %d rejected; want %d, %d", tt.body, tt.n, acc, len(rej), tt.wantAccepted, tt.wantRejd)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{`{"accepted":3,"rejected":[]}`, `{"rejected":[{"index":0}]}`, ``, `null`, `{"accepted":null}`} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, body string, n int) {
		if n < 0 || n > maxBatchSize {
			return
		}
		acc, _ := parseAnswer([]byte(body), n)
		if acc < 0 {
			t.Fatalf("parseAnswer(%q, %d): accepted %d < 0", body, n, acc)
		}
	})
}

func TestBackoff(t *testing.T) {
	p := retryPolicy{attempts: 5, base: 100 * time.Millisecond, max: time.Second}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 75 * time.Millisecond, 125 * time.Millisecond},
		{2, 150 * time.Millisecond, 250 * time.Millisecond},
		{5, 750 * time.Millisecond, 1250 * time.Millisecond},
		{60, 750 * time.Millisecond, 1250 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 20 {
			if d := p.backoff(tt.attempt); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d) = %v, want %v..%v", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	now := time.Date(2024, 6, 17, 23, 30, 0, 0, time.UTC) // 07:30 on the 18th in Shanghai
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string // substring; "" for valid
		wantEnd string
	}{
		{"defaults", func(*Config) {}, "", "2024-06-18"},
		{"end date", func(c *Config) { c.EndDate = "2024-01-31" }, "", "2024-01-31"},
		{"bad end date", func(c *Config) { c.EndDate = "31/01/2024" }, "sim-end-date", ""},
		{"bad url", func(c *Config) { c.CollectorURL = "127.0.0.1:8080" }, "sim-collector-url", ""},
		{"no write key", func(c *Config) { c.WriteKey = "" }, "sim-write-key", ""},
		{"no residents", func(c *Config) { c.Residents = 0 }, "sim-residents", ""},
		{"no days", func(c *Config) { c.Days = 0 }, "sim-days", ""},
		{"huge batch", func(c *Config) { c.BatchSize = 100000 }, "sim-batch-size", ""},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, "sim-concurrency", ""},
		{"negative rate", func(c *Config) { c.TrickleRate = -1 }, "sim-trickle-rate", ""},
		{"unknown city", func(c *Config) { c.CityCode = "990100000000" }, "sim-city", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Residents = 10
			tt.edit(&cfg)
			s, err := newAt(cfg, nil, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			start, end := s.Window()
			if got := end.Format(time.DateOnly); got != tt.wantEnd || end.Hour() != 0 || end.Sub(start) != time.Duration(cfg.Days)*24*time.Hour {
				t.Fatalf("window %v .. %v, want %d days ending at %s 00:00 Shanghai", start, end, cfg.Days, tt.wantEnd)
			}
		})
	}
}

func TestXuchang(t *testing.T) {
	cfg := testConfig(200, 3, 1)
	cfg.CityCode = "411000000000"
	s := newTestSim(t, cfg)
	n := 0
	for e := range s.Generate {
		if !strings.HasPrefix(e.Context.RegionCode, "4110") {
			t.Fatalf("region %s outside Xuchang", e.Context.RegionCode)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no events")
	}
}

func TestConfigFlags(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	if err := config.Bind(fs, &cfg); err != nil {
		t.Fatal(err)
	}
	args := []string{"-sim-residents=500", "-sim-days=3", "-sim-seed=42", "-sim-trickle-rate=2.5",
		"-sim-city=411000000000", "-sim-end-date=2024-06-17", "-sim-collector-url=http://c:1", "-sim-write-key=w",
		"-sim-batch-size=50", "-sim-concurrency=2"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	want := Config{CollectorURL: "http://c:1", WriteKey: "w", CityCode: "411000000000", Residents: 500, Days: 3,
		EndDate: "2024-06-17", Seed: 42, BatchSize: 50, Concurrency: 2, TrickleRate: 2.5}
	if cfg != want {
		t.Fatalf("config %+v, want %+v", cfg, want)
	}
}
