package scheduler

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxLineBytes cuts long log lines.
const maxLineBytes = 1024

// lineBuffer keeps the last max lines written to it (an io.Writer for a slog text handler,
// which writes one line per call) and counts the ones it dropped.
type lineBuffer struct {
	mu      sync.Mutex
	max     int
	lines   []string // a ring once full
	next    int
	dropped int
}

func newLineBuffer(max int) *lineBuffer { return &lineBuffer{max: max} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	for line := range bytes.SplitSeq(bytes.TrimRight(p, "\n"), []byte("\n")) {
		b.add(cut(string(line)))
	}
	return len(p), nil
}

func cut(s string) string {
	if len(s) <= maxLineBytes {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	s = s[:maxLineBytes]
	for !utf8.ValidString(s) && len(s) > maxLineBytes-4 {
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "\uFFFD") + " …[cut]"
}

func (b *lineBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) < b.max {
		b.lines = append(b.lines, line)
		return
	}
	b.lines[b.next] = line
	b.next = (b.next + 1) % b.max
	b.dropped++
}

// String is the kept lines in order, newline-terminated, after a note of the dropped ones.
func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var sb strings.Builder
	if b.dropped > 0 {
		fmt.Fprintf(&sb, "… %d earlier lines dropped (the last %d are kept)\n", b.dropped, b.max)
	}
	for i := range b.lines {
		sb.WriteString(b.lines[(b.next+i)%len(b.lines)])
		sb.WriteByte('\n')
	}
	return sb.String()
}
