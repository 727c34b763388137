package review

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/citypulse/citypulse/warehouse"
)

// ErrUnusable: the staged row cannot be approved (its dataset has no dwd table, or a value does
// not fit its column). It can still be rejected.
var ErrUnusable = errors.New("change request cannot be approved")

// Limits of what a reviewer writes.
const (
	MaxReviewerLen = 128
	MaxCommentLen  = 2000
)

// Decision is the recorded outcome of a change request.
type Decision struct {
	RequestID string `json:"request_id"`
	Dataset   string `json:"dataset"`
	// Decision is approved or rejected.
	Decision string `json:"decision"`
	// Kind is what the change was when decided (move_in, move_out, update; "" when a rejected
	// row could not be read).
	Kind      string    `json:"kind"`
	Reviewer  string    `json:"reviewer"`
	Comment   string    `json:"comment"`
	DecidedAt time.Time `json:"decided_at"`
}

// Outcome is the answer to Approve or Reject.
type Outcome struct {
	Decision Decision `json:"decision"`
	// Repeated is true when the request had already been decided this way: nothing was written
	// and Decision is the earlier one.
	Repeated bool `json:"repeated"`
}

// Approve writes the change request's proposed row into its dwd_ table (version = now in Unix
// ms, the staged received_at, source and batch_id) and records the decision. Approving an
// approved request answers the recorded decision (Repeated); approving a rejected one is a
// *ConflictError. The comment is optional.
func (s *Service) Approve(ctx context.Context, id, reviewer, comment string) (*Outcome, error) {
	return s.decide(ctx, id, StatusApproved, reviewer, comment)
}

// Reject records that the change request is refused; the comment (why) is required. Rejecting a
// rejected request answers the recorded decision (Repeated); rejecting an approved one is a
// *ConflictError.
func (s *Service) Reject(ctx context.Context, id, reviewer, comment string) (*Outcome, error) {
	return s.decide(ctx, id, StatusRejected, reviewer, comment)
}

// CheckReviewer reports whether a reviewer name is acceptable: 1 to MaxReviewerLen bytes of
// UTF-8 without control characters, not blank.
func CheckReviewer(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return invalid("reviewer", "required: who decides (the X-CityPulse-Reviewer header or the body's reviewer field)")
	case len(s) > MaxReviewerLen || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return invalid("reviewer", "%q: want at most %d bytes of UTF-8 text without control characters", truncate(s, 40), MaxReviewerLen)
	}
	return nil
}

// CheckComment reports whether a comment is acceptable (required for a rejection).
func CheckComment(s string, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return invalid("comment", "required when rejecting: say why")
	case len(s) > MaxCommentLen || !utf8.ValidString(s):
		return invalid("comment", "want at most %d bytes of UTF-8 text", MaxCommentLen)
	}
	return nil
}

func (s *Service) decide(ctx context.Context, id, want, reviewer, comment string) (*Outcome, error) {
	if !validID(id) {
		return nil, invalid("id", "%q: want a change request id (hex)", truncate(id, 80))
	}
	if err := CheckReviewer(reviewer); err != nil {
		return nil, err
	}
	if err := CheckComment(comment, want == StatusRejected); err != nil {
		return nil, err
	}
	unlock := s.lock(id)
	defer unlock()
	prev, err := s.decision(ctx, id)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		if prev.Decision != want {
			return nil, &ConflictError{Wanted: want, Existing: *prev}
		}
		return &Outcome{Decision: *prev, Repeated: true}, nil
	}
	st, err := s.staged(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := Decision{RequestID: id, Dataset: st.Dataset, Decision: want, Reviewer: reviewer, Comment: comment,
		DecidedAt: now.Truncate(time.Second).UTC()}
	if want == StatusApproved {
		if d.Kind, err = s.apply(ctx, st, uint64(now.UnixMilli())); err != nil {
			return nil, err
		}
	} else {
		d.Kind = s.kindOf(ctx, st)
	}
	if err := s.record(ctx, d, uint64(now.UnixMilli())); err != nil {
		return nil, err
	}
	s.metrics.decisions.WithLabelValues(d.Dataset, d.Decision).Inc()
	s.log.Info("change request decided", "request_id", id, "dataset", d.Dataset, "decision", d.Decision,
		"kind", d.Kind, "reviewer", d.Reviewer, "identity_key", st.IdentityKey, "region_code", st.RegionCode)
	return &Outcome{Decision: d}, nil
}

// apply writes the staged row into its dwd_ table and returns the change's kind.
func (s *Service) apply(ctx context.Context, st *staged, version uint64) (string, error) {
	t, err := loadTable(ctx, s.conn, st.Dataset, "dataset")
	if errors.Is(err, ErrInvalid) {
		return "", fmt.Errorf("change request %s: %w: %w", st.RequestID, ErrUnusable, err)
	}
	if err != nil {
		return "", err
	}
	prop, err := st.proposed(t)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	cur, err := currentRows(ctx, s.conn, t, []string{st.IdentityKey})
	if err != nil {
		return "", err
	}
	kind := s.kind(st.Dataset, cur[st.IdentityKey], prop)
	vals, err := st.insertValues(t, version)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnusable, err)
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = warehouse.QuoteIdent(c.Name)
	}
	batch, err := s.conn.PrepareBatch(ctx, `INSERT INTO `+quoteTable(t.Name)+` (`+strings.Join(names, ", ")+`)`)
	if err != nil {
		return "", fmt.Errorf("approve %s: prepare insert into %s: %w", st.RequestID, t.Name, err)
	}
	defer func() { _ = batch.Close() }()
	if err := batch.Append(vals...); err != nil {
		return "", fmt.Errorf("approve %s: row for %s: %w", st.RequestID, t.Name, err)
	}
	if err := batch.Send(); err != nil {
		return "", fmt.Errorf("approve %s: insert into %s: %w", st.RequestID, t.Name, err)
	}
	return kind, nil
}

// kindOf is the change's kind as of now, or "" when the row cannot be read.
func (s *Service) kindOf(ctx context.Context, st *staged) string {
	reqs, err := s.describe(ctx, []staged{*st})
	if err != nil {
		return ""
	}
	return reqs[0].Kind
}

const recordSQL = `INSERT INTO ods_change_decisions (request_id, dataset, decision, kind, reviewer, comment, decided_at, version)`

func (s *Service) record(ctx context.Context, d Decision, version uint64) error {
	batch, err := s.conn.PrepareBatch(ctx, recordSQL)
	if err != nil {
		return fmt.Errorf("record decision on %s: %w", d.RequestID, err)
	}
	defer func() { _ = batch.Close() }()
	if err := batch.Append(d.RequestID, d.Dataset, d.Decision, d.Kind, d.Reviewer, d.Comment, d.DecidedAt, version); err != nil {
		return fmt.Errorf("record decision on %s: %w", d.RequestID, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("record decision on %s: %w", d.RequestID, err)
	}
	return nil
}

const decisionSQL = `SELECT request_id, dataset, decision, kind, reviewer, comment, decided_at FROM ods_change_decisions FINAL WHERE request_id = ? LIMIT 1`

// decision reads the recorded decision on a request; nil when there is none.
func (s *Service) decision(ctx context.Context, id string) (*Decision, error) {
	rows, err := s.conn.Query(ctx, decisionSQL, id)
	if err != nil {
		return nil, fmt.Errorf("read decision on %s: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read decision on %s: %w", id, err)
		}
		return nil, nil
	}
	var d Decision
	if err := rows.Scan(&d.RequestID, &d.Dataset, &d.Decision, &d.Kind, &d.Reviewer, &d.Comment, &d.DecidedAt); err != nil {
		return nil, fmt.Errorf("read decision on %s: %w", id, err)
	}
	d.DecidedAt = d.DecidedAt.UTC()
	return &d, nil
}
