package simulate

import (
	"strings"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		sent, total int
		elapsed     time.Duration
		want        []string
	}{
		{0, 1000, 0, []string{"[..............................]", "  0.0%", "0/1000 events", "ETA --:--"}},
		{500, 1000, 10 * time.Second, []string{"[###############...............]", " 50.0%", "50 ev/s", "ETA 0:10"}},
		{1000, 1000, 20 * time.Second, []string{"100.0%", "ETA 0:00"}},
		{100, 1000000, time.Second, []string{"ETA 2:46:39"}},
		{5, 0, time.Second, []string{"0.0%", "5/0 events"}},
	}
	for _, tt := range tests {
		got := progressLine(tt.sent, tt.total, tt.elapsed)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("progressLine(%d, %d, %v) = %q, want it to contain %q", tt.sent, tt.total, tt.elapsed, got, w)
			}
		}
	}
}

func TestProgressBarThrottlesAndEnds(t *testing.T) {
	clock := time.Date(2024, 6, 17, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var out strings.Builder
	bar := progressBar(&out, 0, now)
	steps := []struct {
		advance     time.Duration
		sent, total int
		wantLines   int // "\r" redraws so far
	}{
		{0, 0, 300, 1},
		{10 * time.Millisecond, 100, 300, 1}, // throttled
		{time.Second, 200, 300, 2},
		{10 * time.Millisecond, 300, 300, 3}, // the end is always drawn
		{time.Second, 300, 300, 3},           // and only once
	}
	for i, st := range steps {
		clock = clock.Add(st.advance)
		bar(st.sent, st.total)
		if got := strings.Count(out.String(), "\r"); got != st.wantLines {
			t.Fatalf("step %d: %d redraws, want %d; output %q", i, got, st.wantLines, out.String())
		}
	}
	if !strings.HasSuffix(out.String(), "\n") || !strings.Contains(out.String(), "300/300 events") {
		t.Fatalf("final output %q", out.String())
	}
}
