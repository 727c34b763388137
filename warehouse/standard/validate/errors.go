package validate

import (
	"errors"
	"fmt"
)

// Kinds of failure. They are stable strings: quality flags and quarantine reasons store them.
const (
	KindEmpty    = "empty"    // nothing left after cleaning
	KindEncoding = "encoding" // invalid UTF-8
	KindLength   = "length"   // wrong number of characters
	KindCharset  = "charset"  // a character the format does not allow
	KindChecksum = "checksum" // check digit or check character does not match
	KindDate     = "date"     // not a valid date or time, or not in an accepted layout
	KindFuture   = "future"   // a date that must not be after the as-of date is
	KindPrefix   = "prefix"   // a leading part (province, mobile prefix, registration dept) is not allowed
	KindUnknown  = "unknown"  // well-formed but not in the reference data (region codes)
	KindLevel    = "level"    // region exists but at another level than required
)

// Error is a validation failure. Compare kinds with errors.Is against the Err… sentinels, or read
// Kind directly.
type Error struct {
	Kind   string
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Is reports whether target is a sentinel (an *Error without Reason) of the same kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is.
var (
	ErrEmpty    = &Error{Kind: KindEmpty}
	ErrEncoding = &Error{Kind: KindEncoding}
	ErrLength   = &Error{Kind: KindLength}
	ErrCharset  = &Error{Kind: KindCharset}
	ErrChecksum = &Error{Kind: KindChecksum}
	ErrDate     = &Error{Kind: KindDate}
	ErrFuture   = &Error{Kind: KindFuture}
	ErrPrefix   = &Error{Kind: KindPrefix}
	ErrUnknown  = &Error{Kind: KindUnknown}
	ErrLevel    = &Error{Kind: KindLevel}
)

// KindOf returns the Kind of a validation error, or "" for any other error.
func KindOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func errorf(kind, format string, args ...any) error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}
