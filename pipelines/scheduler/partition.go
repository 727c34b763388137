package scheduler

import (
	"strings"
	"time"
)

// logicalOf is the logical time a firing at t computes: the day or hour before t's, or t's
// minute for Instant jobs.
func (j *job) logicalOf(t time.Time) time.Time {
	t = t.In(j.loc)
	y, m, d := t.Date()
	switch j.Partition {
	case Day:
		return time.Date(y, m, d-1, 0, 0, 0, 0, j.loc)
	case Hour:
		return time.Date(y, m, d, t.Hour()-1, 0, 0, 0, j.loc)
	default:
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, j.loc)
	}
}

// endOf is the end (exclusive) of the partition that starts at l.
func (j *job) endOf(l time.Time) time.Time {
	l = l.In(j.loc)
	y, m, d := l.Date()
	switch j.Partition {
	case Day:
		return time.Date(y, m, d+1, 0, 0, 0, 0, j.loc)
	case Hour:
		return l.Add(time.Hour)
	default:
		return l
	}
}

// align returns the start of the partition that contains t.
func (j *job) align(t time.Time) time.Time {
	t = t.In(j.loc)
	y, m, d := t.Date()
	switch j.Partition {
	case Day:
		return time.Date(y, m, d, 0, 0, 0, 0, j.loc)
	case Hour:
		return time.Date(y, m, d, t.Hour(), 0, 0, 0, j.loc)
	default:
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, j.loc)
	}
}

// format writes a logical time for people, in the job's zone.
func (j *job) format(l time.Time) string {
	l = l.In(j.loc)
	switch j.Partition {
	case Day:
		return l.Format(time.DateOnly)
	default:
		return l.Format("2006-01-02T15:04")
	}
}

// timeLayouts are the forms a person may write a logical time or a range end in.
var timeLayouts = []string{"2006-01-02", "2006-01-02T15", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05"}

// parseTime reads a date or date-time in loc (RFC 3339 with its own offset also works).
// dateOnly reports the plain date form.
func parseTime(field, text string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	text = strings.TrimSpace(text)
	if t, err := time.Parse(time.RFC3339, text); err == nil {
		return t, false, nil
	}
	for i, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, text, loc); err == nil {
			return t, i == 0, nil
		}
	}
	return time.Time{}, false, inputErr(field, "%q: want a date (2024-05-01), a date and hour (2024-05-01T10:00) or RFC 3339", text)
}

// ParseLogical reads the logical time of one run of the job as a person writes it (2024-05-01
// for a day, 2024-05-01T10 or 2024-05-01T10:00 for an hour) and returns the start of the
// partition that contains it.
func (j *job) parseLogical(field, text string) (time.Time, error) {
	t, _, err := parseTime(field, text, j.loc)
	if err != nil {
		return time.Time{}, err
	}
	return j.align(t), nil
}

// partitionsIn lists the logical times of a backfill from..to, both included: every partition
// that starts in the range, where a plain date as to means to its end. Instant jobs use the
// firings of their schedule. More than limit is an error.
func (j *job) partitionsIn(fromText, toText string, limit int) ([]time.Time, error) {
	from, _, err := parseTime("from", fromText, j.loc)
	if err != nil {
		return nil, err
	}
	to, toDate, err := parseTime("to", toText, j.loc)
	if err != nil {
		return nil, err
	}
	if toDate {
		y, m, d := to.Date()
		to = time.Date(y, m, d+1, 0, 0, 0, 0, j.loc).Add(-time.Nanosecond)
	}
	if to.Before(from) {
		return nil, inputErr("to", "%s is before from (%s)", toText, fromText)
	}
	tooMany := inputErr("to", "the range holds more than %d runs of %s: backfill it in parts", limit, j.Name)
	var out []time.Time
	if j.Partition == Instant {
		if j.sched == nil {
			return nil, inputErr("job", "%s has no schedule, so no firings to backfill: trigger it instead", j.Name)
		}
		out = j.sched.Between(from.In(j.loc).Add(-time.Nanosecond), to.In(j.loc), limit+1)
		if len(out) > limit {
			return nil, tooMany
		}
		return out, nil
	}
	seen := map[int64]bool{}
	for l := j.align(from); !l.After(to); l = j.endOf(l) {
		if !seen[l.UnixMilli()] {
			seen[l.UnixMilli()] = true
			out = append(out, l)
		}
		if len(out) > limit {
			return nil, tooMany
		}
	}
	if len(out) == 0 {
		return nil, inputErr("from", "no %s partition of %s lies in %s … %s", j.Partition, j.Name, fromText, toText)
	}
	return out, nil
}

// latestComplete is the logical time a trigger without one means: yesterday for a Day job, the
// previous hour for an Hour job, the current minute for an Instant job.
func (j *job) latestComplete(now time.Time) time.Time { return j.logicalOf(now) }
