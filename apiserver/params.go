package apiserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// paramError is a bad request parameter: the answer names the field and the reason.
type paramError struct {
	Status  int
	Field   string
	Message string
}

func (e *paramError) Error() string { return e.Field + ": " + e.Message }

// isRegionCode reports whether s is a well-formed 12-digit region code.
func isRegionCode(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseRegion reads the region code in query parameter field; empty means the city. It checks
// the form and that the code lies inside the city, not that the region exists.
func parseRegion(q url.Values, field, cityCode string) (string, *paramError) {
	code := strings.TrimSpace(q.Get(field))
	if code == "" {
		return cityCode, nil
	}
	if !isRegionCode(code) {
		return "", &paramError{http.StatusBadRequest, field, fmt.Sprintf("%q is not a region code: want 12 digits (e.g. %s)", truncate(code, 40), cityCode)}
	}
	if code[:4] != cityCode[:4] {
		return "", &paramError{http.StatusNotFound, field, fmt.Sprintf("region %s is not in city %s", code, cityCode)}
	}
	return code, nil
}

// parseDays reads the window length; empty means def.
func parseDays(q url.Values, def int) (int, *paramError) {
	s := strings.TrimSpace(q.Get("days"))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxDays {
		return 0, &paramError{http.StatusBadRequest, "days", fmt.Sprintf("%q: want a whole number of days from 1 to %d", truncate(s, 20), MaxDays)}
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
