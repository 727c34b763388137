package feeds

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/citypulse/citypulse/internal/httpserve"
)

// Admin API limits.
const (
	// MinAdminTokenLen is the shortest accepted feeds-admin-token.
	MinAdminTokenLen = 16
	// maxAdminBody bounds a source definition sent to the admin API.
	maxAdminBody = 1 << 20
	// maxUsageLimit bounds one page of the usage log.
	maxUsageLimit = 1000
)

// SourceView is a source as the admin API shows it: its definition and its active keys (ids
// and creation times; secrets are shown once, when issued, and never again).
type SourceView struct {
	Source
	Keys []Key `json:"keys"`
}

// IssuedKey is the answer to a key request: the only time the secret is shown.
type IssuedKey struct {
	Source    string    `json:"source"`
	KeyID     string    `json:"key_id"`
	Secret    string    `json:"secret"` // hex
	CreatedAt time.Time `json:"created_at"`
}

// adminHandler serves the administration API under /v1/admin/, for operators: every request
// carries "Authorization: Bearer <feeds-admin-token>".
//
//	GET    /v1/admin/sources                     all sources with their active key ids
//	GET    /v1/admin/sources/{id}                one source
//	PUT    /v1/admin/sources/{id}                create or replace a source (JSON as `citypulse source add` reads; keys are kept)
//	POST   /v1/admin/sources/{id}/keys           issue a key: the secret is in this answer only
//	DELETE /v1/admin/sources/{id}/keys/{key}     revoke a key at once
//	GET    /v1/admin/usage?source=&limit=        the usage log, newest first (limit 1–1000, default 100)
func (g *Gateway) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/admin/sources", g.adminListSources)
	mux.HandleFunc("GET /v1/admin/sources/{id}", g.adminGetSource)
	mux.HandleFunc("PUT /v1/admin/sources/{id}", g.adminPutSource)
	mux.HandleFunc("POST /v1/admin/sources/{id}/keys", g.adminAddKey)
	mux.HandleFunc("DELETE /v1/admin/sources/{id}/keys/{key}", g.adminRevokeKey)
	mux.HandleFunc("GET /v1/admin/usage", g.adminUsage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.cfg.AdminToken == "" {
			httpserve.WriteError(w, http.StatusNotFound, "", "the admin API is off: set feeds-admin-token to turn it on")
			return
		}
		if !httpserve.HasBearer(r, g.cfg.AdminToken) {
			httpserve.WriteUnauthorized(w, "citypulse-feeds-admin", "feeds-admin-token")
			g.log.Warn("feeds admin: unauthorized request", "method", r.Method, "path", r.URL.Path, "remote", remoteHost(r))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (g *Gateway) adminListSources(w http.ResponseWriter, r *http.Request) {
	srcs, err := g.deps.Store.Sources(r.Context())
	if err != nil {
		g.adminFail(w, r, err)
		return
	}
	out := make([]SourceView, 0, len(srcs))
	for _, s := range srcs {
		v, err := g.sourceView(r, s)
		if err != nil {
			g.adminFail(w, r, err)
			return
		}
		out = append(out, v)
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"sources": out})
}

func (g *Gateway) sourceView(r *http.Request, s Source) (SourceView, error) {
	keys, err := g.deps.Store.ActiveKeys(r.Context(), s.ID)
	if err != nil {
		return SourceView{}, err
	}
	if keys == nil {
		keys = []Key{}
	}
	return SourceView{Source: s, Keys: keys}, nil
}

func (g *Gateway) adminGetSource(w http.ResponseWriter, r *http.Request) {
	s, err := g.deps.Store.Source(r.Context(), r.PathValue("id"))
	if err != nil {
		g.adminFail(w, r, err)
		return
	}
	v, err := g.sourceView(r, s)
	if err != nil {
		g.adminFail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, v)
}

func (g *Gateway) adminPutSource(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s, field, err := DecodeSource(http.MaxBytesReader(w, r.Body, maxAdminBody), id)
	if err == nil && s.ID != id {
		field, err = "id", fmt.Errorf("body names source %q, the path %q", s.ID, id)
	}
	if err != nil {
		httpserve.WriteError(w, http.StatusBadRequest, field, err.Error())
		return
	}
	if err := g.deps.Store.Register(r.Context(), s); err != nil {
		g.adminFail(w, r, err)
		return
	}
	g.log.Info("feeds admin: source registered", "source", s.ID, "kind", s.Kind, "datasets", len(s.Datasets), "remote", remoteHost(r))
	g.adminGetSource(w, r)
}

func (g *Gateway) adminAddKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	k, err := g.deps.Store.AddKey(r.Context(), id)
	if err != nil {
		g.adminFail(w, r, err)
		return
	}
	g.log.Info("feeds admin: key issued", "source", id, "key", k.ID, "remote", remoteHost(r))
	httpserve.WriteJSON(w, http.StatusCreated, IssuedKey{Source: id, KeyID: k.ID, Secret: hex.EncodeToString(k.Secret), CreatedAt: k.CreatedAt})
}

func (g *Gateway) adminRevokeKey(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	if err := g.deps.Store.RevokeKey(r.Context(), id, key); err != nil {
		g.adminFail(w, r, err)
		return
	}
	g.log.Info("feeds admin: key revoked", "source", id, "key", key, "remote", remoteHost(r))
	w.WriteHeader(http.StatusNoContent)
}

func (g *Gateway) adminUsage(w http.ResponseWriter, r *http.Request) {
	q, err := ParseUsageQuery(r.URL.Query())
	if err != nil {
		var fe *fieldError
		errors.As(err, &fe)
		httpserve.WriteError(w, http.StatusBadRequest, fe.field, fe.reason)
		return
	}
	log, err := g.deps.Store.UsageLog(r.Context(), q.Source, q.Limit)
	if err != nil {
		g.adminFail(w, r, err)
		return
	}
	if log == nil {
		log = []Usage{}
	}
	httpserve.WriteJSON(w, http.StatusOK, map[string]any{"usage": log})
}

// adminFail answers err: 404 for an unknown source or key, 409 for a third key, 400 for a
// source that does not validate, 500 (logged, not shown) otherwise.
func (g *Gateway) adminFail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *ValidationError
	switch {
	case errors.Is(err, ErrNoSource), errors.Is(err, ErrNoKey):
		httpserve.WriteError(w, http.StatusNotFound, "id", err.Error())
	case errors.Is(err, ErrTooManyKeys):
		httpserve.WriteError(w, http.StatusConflict, "keys", err.Error())
	case errors.As(err, &ve):
		httpserve.WriteError(w, http.StatusBadRequest, ve.Field, ve.Error())
	default:
		g.log.Error("feeds admin: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		httpserve.WriteError(w, http.StatusInternalServerError, "", "internal error; see the gateway's log")
	}
}

// UsageQuery is a parsed usage-log request.
type UsageQuery struct {
	Source string
	Limit  int
}

type fieldError struct{ field, reason string }

func (e *fieldError) Error() string { return e.field + ": " + e.reason }

// ParseUsageQuery reads source (optional, a source id) and limit (1–1000, default 100).
func ParseUsageQuery(v map[string][]string) (UsageQuery, error) {
	q := UsageQuery{Limit: 100}
	for k := range v {
		if k != "source" && k != "limit" {
			return q, &fieldError{k, "unknown parameter; want source or limit"}
		}
	}
	if s := first(v["source"]); s != "" {
		if len(s) > 64 || !isToken(s) {
			return q, &fieldError{"source", fmt.Sprintf("%q is not a source id", s)}
		}
		q.Source = s
	}
	if s := first(v["limit"]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxUsageLimit {
			return q, &fieldError{"limit", fmt.Sprintf("%q: want 1 to %d", s, maxUsageLimit)}
		}
		q.Limit = n
	}
	return q, nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// DecodeSource reads one source definition (JSON, unknown fields refused), gives it defaultID
// when it names none, and validates it; on failure it also names the field at fault.
func DecodeSource(r io.Reader, defaultID string) (Source, string, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Source
	if err := dec.Decode(&s); err != nil {
		field := ""
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field = te.Field
		} else if _, name, ok := strings.Cut(err.Error(), "unknown field "); ok {
			field = strings.Trim(name, `"`)
		}
		return s, field, fmt.Errorf("source definition: %w", err)
	}
	if dec.More() {
		return s, "", errors.New("source definition: more than one JSON value")
	}
	if s.ID == "" {
		s.ID = defaultID
	}
	if err := s.Validate(); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return s, ve.Field, err
		}
		return s, "", err
	}
	return s, "", nil
}
