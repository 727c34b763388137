package analytics

import (
	"bytes"
	"encoding/json"
)

// Rejection is one event the collector answered 200 for but did not take: a field broke a
// rule (Code "required", "wrong_type", "invalid", …) or the tracking plan ("plan", with Event
// and Rule). The event went to the collector's dead-letter topic; resending it unchanged fails
// the same way.
type Rejection struct {
	Index     int    `json:"index"`               // position in the batch
	MessageID string `json:"messageId,omitempty"` // the event's messageId, when it was valid
	Field     string `json:"field"`               // JSON path of the bad field, "" for the whole event
	Code      string `json:"code"`
	Event     string `json:"event,omitempty"`
	Rule      string `json:"rule,omitempty"`
	Reason    string `json:"reason"`
	// Message is the message as enqueued; nil when Index does not name one of the batch.
	Message Message `json:"-"`
}

// answer is what a 2xx body says about a batch of n messages.
type answer struct {
	accepted int
	rejected []Rejection
}

// parseAnswer reads the collector's 2xx body {"accepted":N,"rejected":[…]} for a batch of
// items. A body without an accepted count (Segment's {"success":true}, an empty body, something
// else) means every message not listed as rejected was accepted. Counts are kept within the
// batch: accepted in 0…n, at most n rejections, each Rejection's Message taken from items
// when its Index is in range.
func parseAnswer(body []byte, items []item) answer {
	n := len(items)
	var a struct {
		Accepted *int            `json:"accepted"`
		Rejected json.RawMessage `json:"rejected"`
	}
	if json.Unmarshal(body, &a) != nil {
		return answer{accepted: n}
	}
	var raws []json.RawMessage
	_ = json.Unmarshal(a.Rejected, &raws) // anything but an array: no rejections listed
	var out answer
	for _, raw := range raws {
		if len(out.rejected) == n {
			break
		}
		var r Rejection
		if json.Unmarshal(raw, &r) != nil {
			r = Rejection{Index: -1, Reason: "unreadable rejection: " + snippet(raw)}
		}
		if r.Index >= 0 && r.Index < n {
			r.Message = items[r.Index].msg
		}
		out.rejected = append(out.rejected, r)
	}
	if a.Accepted == nil {
		out.accepted = n - len(out.rejected)
	} else {
		out.accepted = min(max(*a.Accepted, 0), n-len(out.rejected))
	}
	return out
}

// errorMessage reads the message of the collector's error body {"error":{"message":…}}, or
// the start of any other body.
func errorMessage(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		if e.Error.Field != "" {
			return e.Error.Field + ": " + e.Error.Message
		}
		return e.Error.Message
	}
	return snippet(body)
}

func snippet(b []byte) string {
	const max = 200
	b = bytes.TrimSpace(b)
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
