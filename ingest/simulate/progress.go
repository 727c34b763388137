package simulate

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressEvery throttles the progress line's redraws.
const progressEvery = 200 * time.Millisecond

// ProgressBar returns a progress callback for History that redraws one terminal line on w:
// bar, percent, events sent of total, rate and time left. A total passed to the callback replaces
// the initial one when positive. It ends the line once sent reaches total. Calls must not overlap
// (History guarantees that).
func ProgressBar(w io.Writer, total int) func(sent, total int) {
	return progressBar(w, total, time.Now)
}

func progressBar(w io.Writer, total int, now func() time.Time) func(sent, total int) {
	start := now()
	var last time.Time
	done := false
	return func(sent, t int) {
		if t > 0 {
			total = t
		}
		at := now()
		finished := total > 0 && sent >= total
		if done || (!finished && at.Sub(last) < progressEvery && sent > 0) {
			return
		}
		last = at
		fmt.Fprint(w, "\r"+progressLine(sent, total, at.Sub(start)))
		if finished {
			done = true
			fmt.Fprintln(w)
		}
	}
}

// progressLine renders one state of the bar.
func progressLine(sent, total int, elapsed time.Duration) string {
	const width = 30
	frac := 0.0
	if total > 0 {
		frac = min(float64(sent)/float64(total), 1)
	}
	filled := int(frac * width)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(sent) / s
	}
	eta := "--:--"
	if rate > 0 && total > 0 {
		left := time.Duration(float64(max(total-sent, 0)) / rate * float64(time.Second))
		eta = clock(left)
	}
	return fmt.Sprintf("[%s%s] %5.1f%%  %d/%d events  %.0f ev/s  ETA %s  ",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, sent, total, rate, eta)
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
