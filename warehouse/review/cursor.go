package review

import (
	"errors"
	"strconv"
	"strings"
)

// cursor is where a page of pending requests ends: the last request's receive time (Unix
// seconds) and id. Its text is "<seconds>.<id>".
type cursor struct {
	At int64
	ID string
}

func (c cursor) String() string { return strconv.FormatInt(c.At, 10) + "." + c.ID }

// maxCursorTime is the last second a ClickHouse DateTime holds.
const maxCursorTime = 1<<32 - 1

// parseCursor reads a cursor made by String.
func parseCursor(s string) (cursor, error) {
	at, id, ok := strings.Cut(s, ".")
	if !ok {
		return cursor{}, errors.New("not a page cursor: use the next value of the previous page")
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil || n < 0 || n > maxCursorTime || at != strconv.FormatInt(n, 10) {
		return cursor{}, errors.New("not a page cursor (bad time): use the next value of the previous page")
	}
	if !validID(id) {
		return cursor{}, errors.New("not a page cursor (bad id): use the next value of the previous page")
	}
	return cursor{At: n, ID: id}, nil
}
