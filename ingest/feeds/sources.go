package feeds

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/internal/metastore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the feeds gateway's part of the metadata store.
var Schema = metastore.Schema{Name: "feeds", FS: migrations, Dir: "migrations"}

// Errors callers check.
var (
	ErrNoSource    = errors.New("no such feed source")
	ErrNoKey       = errors.New("no such active key")
	ErrTooManyKeys = errors.New("source already has two active keys; revoke one first")
)

// MaxActiveKeys is how many secrets a source may hold at once: the old and the new during a
// rotation.
const MaxActiveKeys = 2

// Source kinds.
const (
	KindDepartment = "department"
	KindCommunity  = "community"
	// KindReference is a feed to compare the community data against (a department's register
	// of record): its rows are cleaned and compared, never loaded into dwd_ tables.
	KindReference = "reference"
)

// Source is a department or community office that sends feeds.
type Source struct {
	// ID is what the source sends in X-CityPulse-Source: 1 to 64 of a-z, A-Z, 0-9, _ and -.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is KindDepartment, KindCommunity or KindReference.
	Kind string `json:"kind"`
	// RegionCode is the 12-digit division a community office belongs to ("" for a department).
	RegionCode string `json:"region_code,omitempty"`
	Disabled   bool   `json:"disabled,omitempty"`
	// Datasets are the datasets the source may send, by dataset name.
	Datasets map[string]DatasetConfig `json:"datasets"`
}

// DatasetConfig is how a source's dataset is read.
type DatasetConfig struct {
	// Mapping maps the source's column names to standard field names. Columns it does not name
	// travel under "unmapped"; an empty mapping passes every column through under its own name.
	Mapping map[string]string `json:"mapping,omitempty"`
	// KeyField, when set, is the standard field whose value (hashed) keys the Kafka records, so
	// all records of one entity land in one partition; otherwise batch and row key them.
	KeyField string `json:"key_field,omitempty"`
}

// ValidationError is a source definition that cannot be stored: the field at fault and why.
type ValidationError struct {
	Field string
	msg   string
}

func (e *ValidationError) Error() string { return e.msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, msg: fmt.Sprintf(format, args...)}
}

// Validate names the first field of s that cannot be stored (a *ValidationError).
func (s Source) Validate() error {
	if len(s.ID) == 0 || len(s.ID) > 64 || !isToken(s.ID) {
		return invalid("id", "source id %q: want 1 to 64 of a-z, A-Z, 0-9, _ and -", s.ID)
	}
	if s.Name == "" {
		return invalid("name", "source %s: name is required", s.ID)
	}
	if s.Kind != KindDepartment && s.Kind != KindCommunity && s.Kind != KindReference {
		return invalid("kind", "source %s: kind %q: want %s, %s or %s", s.ID, s.Kind, KindDepartment, KindCommunity, KindReference)
	}
	if s.RegionCode != "" && (len(s.RegionCode) != 12 || !isDigits(s.RegionCode)) {
		return invalid("region_code", "source %s: region_code %q: want 12 digits", s.ID, s.RegionCode)
	}
	for ds, dc := range s.Datasets {
		if err := bus.ValidateDataset(ds); err != nil {
			return invalid("datasets."+ds, "source %s: %v", s.ID, err)
		}
		targets := map[string]string{}
		for col, field := range dc.Mapping {
			if col == "" || field == "" {
				return invalid("datasets."+ds+".mapping", "source %s dataset %s: mapping %q → %q: both names are required", s.ID, ds, col, field)
			}
			if other, dup := targets[field]; dup {
				return invalid("datasets."+ds+".mapping", "source %s dataset %s: columns %q and %q both map to field %q", s.ID, ds, other, col, field)
			}
			targets[field] = col
		}
	}
	return nil
}

func isToken(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Key is one issued secret of a source.
type Key struct {
	ID        string    `json:"key_id"`
	Secret    []byte    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Store keeps sources, keys, mappings, nonces and the usage log in the metadata store.
type Store struct {
	ms  *metastore.Store
	box *secretBox
	now func() time.Time
}

// StoreOption configures a Store.
type StoreOption func(*Store) error

// WithSecrets encrypts the sources' secrets at rest as c says.
func WithSecrets(c SecretsConfig) StoreOption {
	return func(st *Store) error {
		key, err := ParseSecretsKey(c.Key)
		if err != nil {
			return err
		}
		st.box, err = newSecretBox(key)
		return err
	}
}

// NewStore migrates the feeds tables on ms and returns the Store.
func NewStore(ctx context.Context, ms *metastore.Store, opts ...StoreOption) (*Store, error) {
	st := &Store{ms: ms, now: time.Now}
	for _, o := range opts {
		if err := o(st); err != nil {
			return nil, fmt.Errorf("feeds store: %w", err)
		}
	}
	if _, err := ms.Migrate(ctx, Schema); err != nil {
		return nil, fmt.Errorf("feeds store: %w", err)
	}
	return st, nil
}

// Encrypted reports whether the store encrypts secrets at rest.
func (st *Store) Encrypted() bool { return st.box != nil }

// Register creates or replaces source s (its datasets and mappings included; its keys are kept).
func (st *Store) Register(ctx context.Context, s Source) error {
	if err := s.Validate(); err != nil {
		return err
	}
	now := st.now().Unix()
	return st.ms.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO feed_sources (id, name, kind, region_code, disabled, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (id) DO UPDATE SET name = $2, kind = $3, region_code = $4, disabled = $5, updated_at = $6`,
			s.ID, s.Name, s.Kind, s.RegionCode, boolInt(s.Disabled), now)
		if err != nil {
			return fmt.Errorf("register source %s: %w", s.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM feed_source_datasets WHERE source_id = $1`, s.ID); err != nil {
			return fmt.Errorf("register source %s: %w", s.ID, err)
		}
		for ds, dc := range s.Datasets {
			m := dc.Mapping
			if m == nil {
				m = map[string]string{}
			}
			js, _ := json.Marshal(m) // a map of strings always marshals
			if _, err := tx.ExecContext(ctx, `INSERT INTO feed_source_datasets (source_id, dataset, mapping_json, key_field) VALUES ($1, $2, $3, $4)`,
				s.ID, ds, string(js), dc.KeyField); err != nil {
				return fmt.Errorf("register source %s dataset %s: %w", s.ID, ds, err)
			}
		}
		return nil
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Sources returns every source, by id.
func (st *Store) Sources(ctx context.Context) ([]Source, error) {
	rows, err := st.ms.DB().QueryContext(ctx, `SELECT id FROM feed_sources ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list sources: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := make([]Source, 0, len(ids))
	for _, id := range ids {
		s, err := st.Source(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Source returns the source with id, or ErrNoSource.
func (st *Store) Source(ctx context.Context, id string) (Source, error) {
	s := Source{ID: id, Datasets: map[string]DatasetConfig{}}
	var disabled int
	err := st.ms.DB().QueryRowContext(ctx, `SELECT name, kind, region_code, disabled FROM feed_sources WHERE id = $1`, id).
		Scan(&s.Name, &s.Kind, &s.RegionCode, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fmt.Errorf("source %q: %w", id, ErrNoSource)
	}
	if err != nil {
		return Source{}, fmt.Errorf("read source %s: %w", id, err)
	}
	s.Disabled = disabled != 0
	rows, err := st.ms.DB().QueryContext(ctx, `SELECT dataset, mapping_json, key_field FROM feed_source_datasets WHERE source_id = $1`, id)
	if err != nil {
		return Source{}, fmt.Errorf("read datasets of source %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ds, js string
		var dc DatasetConfig
		if err := rows.Scan(&ds, &js, &dc.KeyField); err != nil {
			return Source{}, fmt.Errorf("read datasets of source %s: %w", id, err)
		}
		if err := json.Unmarshal([]byte(js), &dc.Mapping); err != nil {
			return Source{}, fmt.Errorf("source %s dataset %s: stored mapping does not decode: %w", id, ds, err)
		}
		s.Datasets[ds] = dc
	}
	if err := rows.Err(); err != nil {
		return Source{}, fmt.Errorf("read datasets of source %s: %w", id, err)
	}
	return s, nil
}

// AddKey issues a new random 32-byte secret to source id. The secret is returned once here; hand
// it to the source over a safe channel.
func (st *Store) AddKey(ctx context.Context, id string) (Key, error) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails
	return st.ImportKey(ctx, id, secret)
}

// ImportKey stores a secret the source already holds (at least 16 bytes).
func (st *Store) ImportKey(ctx context.Context, id string, secret []byte) (Key, error) {
	if len(secret) < 16 {
		return Key{}, fmt.Errorf("source %s: secret of %d bytes: want at least 16", id, len(secret))
	}
	kid := make([]byte, 6)
	_, _ = rand.Read(kid)
	k := Key{ID: "k" + hex.EncodeToString(kid), Secret: append([]byte(nil), secret...), CreatedAt: st.now().Truncate(time.Second)}
	err := st.ms.LockedTx(ctx, "feeds_keys", func(tx *sql.Tx) error {
		var exists, active int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM feed_sources WHERE id = $1`, id).Scan(&exists); err != nil {
			return fmt.Errorf("add key to source %s: %w", id, err)
		}
		if exists == 0 {
			return fmt.Errorf("add key to source %q: %w", id, ErrNoSource)
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM feed_source_keys WHERE source_id = $1 AND revoked_at = 0`, id).Scan(&active); err != nil {
			return fmt.Errorf("add key to source %s: %w", id, err)
		}
		if active >= MaxActiveKeys {
			return fmt.Errorf("add key to source %s: %w", id, ErrTooManyKeys)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO feed_source_keys (source_id, key_id, secret, created_at, revoked_at) VALUES ($1, $2, $3, $4, 0)`,
			id, k.ID, st.box.seal(id, k.ID, k.Secret), k.CreatedAt.Unix())
		if err != nil {
			return fmt.Errorf("add key to source %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	return k, nil
}

// RevokeKey ends an active key of source id at once.
func (st *Store) RevokeKey(ctx context.Context, id, keyID string) error {
	res, err := st.ms.DB().ExecContext(ctx, `UPDATE feed_source_keys SET revoked_at = $1 WHERE source_id = $2 AND key_id = $3 AND revoked_at = 0`,
		st.now().Unix(), id, keyID)
	if err != nil {
		return fmt.Errorf("revoke key %s of source %s: %w", keyID, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke key %s of source %s: %w", keyID, id, ErrNoKey)
	}
	return nil
}

// ActiveKeys returns the active keys of source id, oldest first.
func (st *Store) ActiveKeys(ctx context.Context, id string) ([]Key, error) {
	rows, err := st.ms.DB().QueryContext(ctx, `SELECT key_id, secret, created_at FROM feed_source_keys WHERE source_id = $1 AND revoked_at = 0`, id)
	if err != nil {
		return nil, fmt.Errorf("read keys of source %s: %w", id, err)
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		var k Key
		var stored string
		var at int64
		if err := rows.Scan(&k.ID, &stored, &at); err != nil {
			return nil, fmt.Errorf("read keys of source %s: %w", id, err)
		}
		if k.Secret, err = st.box.open(id, k.ID, stored); err != nil {
			return nil, err
		}
		k.CreatedAt = time.Unix(at, 0)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read keys of source %s: %w", id, err)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].CreatedAt.Equal(keys[j].CreatedAt) {
			return keys[i].CreatedAt.Before(keys[j].CreatedAt)
		}
		return keys[i].ID < keys[j].ID
	})
	return keys, nil
}
