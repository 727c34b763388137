package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/citypulse/citypulse/warehouse/dimdata"
	"github.com/citypulse/citypulse/warehouse/review"
)

// ReviewerHeader names the reviewer of a decision when the body does not. There is no
// authentication yet: the API records the name the caller gives (see warehouse/review).
const ReviewerHeader = "X-CityPulse-Reviewer"

// maxDecisionBody bounds the body of an approve or reject request.
const maxDecisionBody = 64 << 10

// chinaTime is the zone of the from/to dates of the change list.
var chinaTime = time.FixedZone("CST", 8*3600)

// parseChangesQuery reads GET /api/v1/community/changes: dataset, region (a 12-digit code in
// the city; its level's prefix scopes the list), from and to (a YYYY-MM-DD day in China
// Standard Time, to inclusive, or an RFC 3339 time, to exclusive), after and limit.
func parseChangesQuery(q url.Values, cityCode string) (review.ListQuery, *paramError) {
	var lq review.ListQuery
	var perr *paramError
	if lq.Dataset, perr = parseDataset(q, false); perr != nil {
		return lq, perr
	}
	if lq.Region, perr = parseRegionPrefix(q, cityCode); perr != nil {
		return lq, perr
	}
	if lq.From, perr = parseTime(q, "from", false); perr != nil {
		return lq, perr
	}
	if lq.To, perr = parseTime(q, "to", true); perr != nil {
		return lq, perr
	}
	if !lq.From.IsZero() && !lq.To.IsZero() && !lq.From.Before(lq.To) {
		return lq, &paramError{http.StatusBadRequest, "from", "from must be before to"}
	}
	if lq.After, perr = parseCursorParam(q); perr != nil {
		return lq, perr
	}
	lq.Limit, perr = parseLimit(q)
	return lq, perr
}

// parseCompareQuery reads GET /api/v1/community/compare: dataset (required), batch and/or
// source, region, missing_from_reference (true/false/1/0), status, after and limit.
func parseCompareQuery(q url.Values, cityCode string) (review.CompareQuery, *paramError) {
	var cq review.CompareQuery
	var perr *paramError
	if cq.Dataset, perr = parseDataset(q, true); perr != nil {
		return cq, perr
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"batch", &cq.Batch}, {"source", &cq.Source}, {"status", &cq.Status}} {
		v := strings.TrimSpace(q.Get(f.name))
		if len(v) > maxSourceLen || !validText(v) {
			return cq, &paramError{http.StatusBadRequest, f.name, fmt.Sprintf("%q: want at most %d bytes of UTF-8 text", truncate(v, 40), maxSourceLen)}
		}
		*f.dst = v
	}
	if cq.Batch == "" && cq.Source == "" {
		return cq, &paramError{http.StatusBadRequest, "batch", "give the reference batch id (batch) or the reference source (source)"}
	}
	switch cq.Status {
	case "", review.CompareDiffers, review.CompareMissingInDWD, review.CompareMissingInReference:
	default:
		return cq, &paramError{http.StatusBadRequest, "status", fmt.Sprintf("%q: want differs, missing_in_dwd or missing_in_reference", truncate(cq.Status, 40))}
	}
	if cq.Region, perr = parseRegionPrefix(q, cityCode); perr != nil {
		return cq, perr
	}
	if s := strings.TrimSpace(q.Get("missing_from_reference")); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return cq, &paramError{http.StatusBadRequest, "missing_from_reference", fmt.Sprintf("%q: want true or false", truncate(s, 20))}
		}
		cq.MissingFromReference = b
	}
	if cq.Status == review.CompareMissingInReference && !cq.MissingFromReference {
		return cq, &paramError{http.StatusBadRequest, "status", "missing_in_reference needs missing_from_reference=true"}
	}
	cq.After = strings.TrimSpace(q.Get("after"))
	if len(cq.After) > maxSourceLen || !validText(cq.After) {
		return cq, &paramError{http.StatusBadRequest, "after", "not a page cursor: use the next value of the previous page"}
	}
	cq.Limit, perr = parseLimit(q)
	return cq, perr
}

// parseStaleQuery reads GET /api/v1/community/stale-addresses: region, after and limit.
func parseStaleQuery(q url.Values, cityCode string) (review.StaleQuery, *paramError) {
	var sq review.StaleQuery
	var perr *paramError
	if sq.Region, perr = parseRegionPrefix(q, cityCode); perr != nil {
		return sq, perr
	}
	sq.After = strings.TrimSpace(q.Get("after"))
	if len(sq.After) > maxSourceLen || !validText(sq.After) {
		return sq, &paramError{http.StatusBadRequest, "after", "not a page cursor: use the next value of the previous page"}
	}
	sq.Limit, perr = parseLimit(q)
	return sq, perr
}

// decisionBody is the JSON body of approve and reject; both fields are optional in the body
// (the reviewer may come from ReviewerHeader; a rejection needs a comment).
type decisionBody struct {
	Reviewer string `json:"reviewer"`
	Comment  string `json:"comment"`
}

// parseDecision reads the reviewer and comment of an approve or reject request: the body is
// empty or one JSON object; the reviewer comes from the body or the header (both given must
// agree). It checks them as warehouse/review will.
func parseDecision(header string, body io.Reader, reject bool) (reviewer, comment string, perr *paramError) {
	b, err := io.ReadAll(io.LimitReader(body, maxDecisionBody+1))
	if err != nil {
		return "", "", &paramError{http.StatusBadRequest, "", "could not read the request body: " + err.Error()}
	}
	if len(b) > maxDecisionBody {
		return "", "", &paramError{http.StatusRequestEntityTooLarge, "", fmt.Sprintf("request body over %d bytes", maxDecisionBody)}
	}
	var d decisionBody
	if len(bytes.TrimSpace(b)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil {
			return "", "", &paramError{http.StatusBadRequest, "", `body: want a JSON object {"reviewer": "…", "comment": "…"}: ` + err.Error()}
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return "", "", &paramError{http.StatusBadRequest, "", "body: want one JSON object and nothing after it"}
		}
	}
	header = strings.TrimSpace(header)
	switch {
	case d.Reviewer == "":
		d.Reviewer = header
	case header != "" && header != d.Reviewer:
		return "", "", &paramError{http.StatusBadRequest, "reviewer", fmt.Sprintf("the %s header and the body's reviewer differ: give one", ReviewerHeader)}
	}
	if err := review.CheckReviewer(d.Reviewer); err != nil {
		return "", "", inputError(err)
	}
	if err := review.CheckComment(d.Comment, reject); err != nil {
		return "", "", inputError(err)
	}
	return d.Reviewer, d.Comment, nil
}

// inputError turns a review.InputError into a 400 naming its field.
func inputError(err error) *paramError {
	var ie *review.InputError
	if errors.As(err, &ie) {
		return &paramError{http.StatusBadRequest, ie.Field, ie.Reason}
	}
	return &paramError{http.StatusBadRequest, "", err.Error()}
}

func parseDataset(q url.Values, required bool) (string, *paramError) {
	s := strings.TrimSpace(q.Get("dataset"))
	if s == "" && required {
		return "", &paramError{http.StatusBadRequest, "dataset", "required: the dataset to compare (e.g. person)"}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; len(s) > 64 || !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') || (i == 0 && !(c >= 'a' && c <= 'z')) {
			return "", &paramError{http.StatusBadRequest, "dataset", fmt.Sprintf("%q: want a dataset name (lowercase letters, digits and _, e.g. person_house)", truncate(s, 40))}
		}
	}
	return s, nil
}

// parseRegionPrefix reads an optional region code in the city and returns its level's prefix
// (4 digits for the city, 6 a district, 9 a street, 12 a community); "" when absent.
func parseRegionPrefix(q url.Values, cityCode string) (string, *paramError) {
	if strings.TrimSpace(q.Get("region")) == "" {
		return "", nil
	}
	code, perr := parseRegion(q, "region", cityCode)
	if perr != nil {
		return "", perr
	}
	return dimdata.Prefix(code, dimdata.LevelOf(code)), nil
}

// parseTime reads a YYYY-MM-DD day (China Standard Time; an end day counts whole, so it becomes
// the next midnight) or an RFC 3339 time.
func parseTime(q url.Values, field string, end bool) (time.Time, *paramError) {
	s := strings.TrimSpace(q.Get(field))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(dateLayout, s, chinaTime)
	if err == nil && end {
		t = t.AddDate(0, 0, 1)
	}
	if err != nil {
		t, err = time.Parse(time.RFC3339, s)
	}
	if err != nil || t.Unix() < 0 || t.Unix() >= 1<<32 {
		return time.Time{}, &paramError{http.StatusBadRequest, field, fmt.Sprintf("%q: want YYYY-MM-DD (China Standard Time) or an RFC 3339 time (e.g. 2025-03-05T08:00:00+08:00), from 1970 to 2106", truncate(s, 40))}
	}
	return t, nil
}

func parseCursorParam(q url.Values) (string, *paramError) {
	s := strings.TrimSpace(q.Get("after"))
	if len(s) > maxSourceLen || !validText(s) {
		return "", &paramError{http.StatusBadRequest, "after", "not a page cursor: use the next value of the previous page"}
	}
	return s, nil
}

func parseLimit(q url.Values) (int, *paramError) {
	s := strings.TrimSpace(q.Get("limit"))
	if s == "" {
		return review.DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > review.MaxLimit {
		return 0, &paramError{http.StatusBadRequest, "limit", fmt.Sprintf("%q: want a whole number from 1 to %d", truncate(s, 20), review.MaxLimit)}
	}
	return n, nil
}

// validText: UTF-8 without control characters.
func validText(s string) bool {
	for _, r := range s {
		if r == '\uFFFD' || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
