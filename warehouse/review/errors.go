package review

import (
	"errors"
	"fmt"
)

// Errors callers check with errors.Is.
var (
	// ErrNotFound: no staged change request has the id.
	ErrNotFound = errors.New("no such change request")
	// ErrConflict: the request was already decided the other way (the error is a *ConflictError).
	ErrConflict = errors.New("change request already decided otherwise")
	// ErrInvalid: an argument is unusable (the error is an *InputError naming the field).
	ErrInvalid = errors.New("invalid argument")
)

// InputError is an unusable argument: Field names it (as the API names it), Reason says why.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ConflictError is a decision that contradicts the one already recorded.
type ConflictError struct {
	Wanted   string   // the decision asked for
	Existing Decision // the decision recorded
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("change request %s was already %s by %q at %s; it cannot be %s",
		e.Existing.RequestID, e.Existing.Decision, e.Existing.Reviewer,
		e.Existing.DecidedAt.In(cst).Format("2006-01-02 15:04:05 CST"), e.Wanted)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
