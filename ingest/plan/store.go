package plan

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/citypulse/citypulse/internal/metastore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the tracking plan's part of the metadata store.
var Schema = metastore.Schema{Name: "tracking_plan", FS: migrations, Dir: "migrations"}

// ErrNoPlan means no plan has been applied yet.
var ErrNoPlan = errors.New("no tracking plan has been applied")

// errCorrupt marks a stored version that cannot be decoded.
var errCorrupt = errors.New("stored plan does not decode")

// ErrNoVersion means the asked-for version does not exist.
var ErrNoVersion = errors.New("no such tracking plan version")

// Store keeps the versions of the tracking plan in the metadata store.
type Store struct {
	ms *metastore.Store
}

// NewStore migrates the tracking plan's tables on ms and returns its Store.
func NewStore(ctx context.Context, ms *metastore.Store) (*Store, error) {
	if _, err := ms.Migrate(ctx, Schema); err != nil {
		return nil, err
	}
	return &Store{ms: ms}, nil
}

// Summary describes one applied version without its content.
type Summary struct {
	Version   int       `json:"version"`
	SHA256    string    `json:"sha256"`
	AppliedBy string    `json:"applied_by"`
	AppliedAt time.Time `json:"applied_at"`
	Events    int       `json:"events"`
}

// Record is one applied version with its plan.
type Record struct {
	Summary
	Plan Plan `json:"plan"`
	// Source is the file or request body as applied ("" when applied from code).
	Source string `json:"source,omitempty"`
}

// Compile builds the record's Checker, which then reports the record's version.
func (r Record) Compile() (*Checker, error) {
	c, err := Compile(r.Plan)
	if err != nil {
		return nil, fmt.Errorf("tracking plan version %d: %w", r.Version, err)
	}
	c.version = r.Version
	return c, nil
}

// ApplyOptions describe an apply for the history.
type ApplyOptions struct {
	By     string // who applied it; "" is recorded as "unknown"
	Source []byte // the file or body as written, kept for people
}

// Apply validates p and stores it as the next version, unless it is the same plan as the
// active version (same canonical form), in which case nothing changes and the active version
// is returned with changed false. Concurrent applies are serialised.
func (s *Store) Apply(ctx context.Context, p Plan, opts ApplyOptions) (version int, changed bool, err error) {
	version, changed, _, _, err = s.apply(ctx, p, opts)
	return version, changed, err
}

// apply is Apply that also returns the version active before and its plan, read in the same
// transaction (0 and a zero Plan when there was none).
func (s *Store) apply(ctx context.Context, p Plan, opts ApplyOptions) (version int, changed bool, prevVersion int, prev Plan, err error) {
	p.normalize()
	if _, err := Compile(p); err != nil {
		return 0, false, 0, Plan{}, err
	}
	canon, err := p.Canonical()
	if err != nil {
		return 0, false, 0, Plan{}, err
	}
	digest, err := p.Digest()
	if err != nil {
		return 0, false, 0, Plan{}, err
	}
	by := opts.By
	if by == "" {
		by = "unknown"
	}
	err = s.ms.LockedTx(ctx, "tracking_plan", func(tx *sql.Tx) error {
		var last int
		var lastSum, lastJSON string
		err := tx.QueryRowContext(ctx,
			`SELECT version, sha256, plan_json FROM tracking_plan_versions ORDER BY version DESC LIMIT 1`).Scan(&last, &lastSum, &lastJSON)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read active tracking plan: %w", err)
		}
		prevVersion = last
		if last > 0 {
			// Only for the diff: a stored plan this binary cannot decode diffs as "no plan".
			if json.Unmarshal([]byte(lastJSON), &prev) != nil {
				prev = Plan{}
			}
		}
		if lastSum == digest {
			version = last
			return nil
		}
		version, changed = last+1, true
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO tracking_plan_versions (version, sha256, plan_json, source, applied_by, applied_at, event_count)
			 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			version, digest, string(canon), string(opts.Source), by, time.Now().UnixMilli(), len(p.Events)); err != nil {
			return fmt.Errorf("store tracking plan version %d: %w", version, err)
		}
		return nil
	})
	if err != nil {
		return 0, false, 0, Plan{}, err
	}
	return version, changed, prevVersion, prev, nil
}

// ActiveVersion is the number of the active version, or 0 when no plan was applied. It is
// cheap: the Watcher calls it every few seconds.
func (s *Store) ActiveVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.ms.DB().QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM tracking_plan_versions`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read active tracking plan version: %w", err)
	}
	return v, nil
}

// Active returns the active version, or ErrNoPlan.
func (s *Store) Active(ctx context.Context) (Record, error) {
	v, err := s.ActiveVersion(ctx)
	if err != nil {
		return Record{}, err
	}
	if v == 0 {
		return Record{}, ErrNoPlan
	}
	return s.Get(ctx, v)
}

// Get returns one version, or an error wrapping ErrNoVersion.
func (s *Store) Get(ctx context.Context, version int) (Record, error) {
	var r Record
	var planJSON string
	var at int64
	err := s.ms.DB().QueryRowContext(ctx,
		`SELECT version, sha256, plan_json, source, applied_by, applied_at, event_count
		 FROM tracking_plan_versions WHERE version = $1`, version).
		Scan(&r.Version, &r.SHA256, &planJSON, &r.Source, &r.AppliedBy, &at, &r.Events)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("tracking plan version %d: %w", version, ErrNoVersion)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read tracking plan version %d: %w", version, err)
	}
	r.AppliedAt = time.UnixMilli(at).UTC()
	// The stored JSON is decoded as it was written, without re-validating: a plan stored by a
	// newer binary may not validate here, and Compile is where that shows.
	if err := json.Unmarshal([]byte(planJSON), &r.Plan); err != nil {
		return Record{}, fmt.Errorf("decode tracking plan version %d: %w: %w", version, errCorrupt, err)
	}
	r.Plan.normalize()
	return r, nil
}

// History lists every version, newest first.
func (s *Store) History(ctx context.Context) ([]Summary, error) {
	rows, err := s.ms.DB().QueryContext(ctx,
		`SELECT version, sha256, applied_by, applied_at, event_count FROM tracking_plan_versions ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("list tracking plan versions: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var v Summary
		var at int64
		if err := rows.Scan(&v.Version, &v.SHA256, &v.AppliedBy, &at, &v.Events); err != nil {
			return nil, fmt.Errorf("list tracking plan versions: %w", err)
		}
		v.AppliedAt = time.UnixMilli(at).UTC()
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tracking plan versions: %w", err)
	}
	return out, nil
}
