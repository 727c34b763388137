package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/citypulse/citypulse/internal/httpserve"
)

// APIPath is where Handler serves the tracking plan API.
const APIPath = "/api/v1/tracking-plan"

type actorKey struct{}

// WithActor returns ctx carrying the name of the authenticated user, for the API server's auth
// middleware: Handler records it as who applied a plan.
func WithActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, actorKey{}, name)
}

func actor(ctx context.Context) string {
	if s, ok := ctx.Value(actorKey{}).(string); ok && s != "" {
		return s
	}
	return "api"
}

// Handler serves the tracking plan management API (mount it at APIPath or at "/"):
//
//	GET  /api/v1/tracking-plan               the active version as JSON (Record); ?format=yaml for the plan as YAML
//	PUT  /api/v1/tracking-plan               apply the plan in the body (YAML, or JSON: a body starting with '{');
//	                                         answers an ApplyResult, or 400 naming the bad field
//	GET  /api/v1/tracking-plan/versions      every version, newest first ([]Summary)
//	GET  /api/v1/tracking-plan/versions/{n}  one version (Record); ?format=yaml as above
//
// It does no authentication or authorisation: the API server in front of it does, and passes
// the user's name with WithActor. Errors are logged to log (nil: nowhere) when they are the
// server's fault.
func Handler(store *Store, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{store: store, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+APIPath, h.active)
	mux.HandleFunc("PUT "+APIPath, h.apply)
	mux.HandleFunc("GET "+APIPath+"/versions", h.versions)
	mux.HandleFunc("GET "+APIPath+"/versions/{n}", h.version)
	return mux
}

type handler struct {
	store *Store
	log   *slog.Logger
}

func (h *handler) active(w http.ResponseWriter, r *http.Request) {
	rec, err := h.store.Active(r.Context())
	if errors.Is(err, ErrNoPlan) {
		httpserve.WriteError(w, http.StatusNotFound, "", "no tracking plan has been applied yet: PUT one to "+APIPath)
		return
	}
	h.record(w, r, rec, err)
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		httpserve.WriteError(w, http.StatusBadRequest, "version", fmt.Sprintf("%q is not a version number (1, 2, …)", r.PathValue("n")))
		return
	}
	rec, err := h.store.Get(r.Context(), n)
	if errors.Is(err, ErrNoVersion) {
		httpserve.WriteError(w, http.StatusNotFound, "version", fmt.Sprintf("tracking plan version %d does not exist", n))
		return
	}
	h.record(w, r, rec, err)
}

func (h *handler) record(w http.ResponseWriter, r *http.Request, rec Record, err error) {
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("format") {
	case "", FormatJSON:
		httpserve.WriteJSON(w, http.StatusOK, rec)
	case FormatYAML:
		y, err := rec.Plan.YAML()
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		w.Header().Set("X-Tracking-Plan-Version", strconv.Itoa(rec.Version))
		_, _ = w.Write(y) // the client went away; nothing to do
	default:
		httpserve.WriteError(w, http.StatusBadRequest, "format", "want json or yaml")
	}
}

func (h *handler) versions(w http.ResponseWriter, r *http.Request) {
	list, err := h.store.History(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpserve.WriteJSON(w, http.StatusOK, list)
}

func (h *handler) apply(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPlanBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpserve.WriteError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("plan larger than %d bytes", MaxPlanBytes))
			return
		}
		httpserve.WriteError(w, http.StatusBadRequest, "", "cannot read the body: "+err.Error())
		return
	}
	res, err := ApplyBytes(r.Context(), h.store, body, actor(r.Context()))
	var fe Errors
	var de *DecodeError
	switch {
	case errors.As(err, &fe):
		httpserve.WriteError(w, http.StatusBadRequest, fe[0].Path, fe.Error())
	case errors.As(err, &de):
		httpserve.WriteError(w, http.StatusBadRequest, "", err.Error())
	case err != nil:
		h.fail(w, r, err)
	default:
		h.log.Info("tracking plan applied", "version", res.Version, "changed", res.Changed, "by", actor(r.Context()), "changes", len(res.Changes))
		httpserve.WriteJSON(w, http.StatusOK, res)
	}
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("tracking plan API", "method", r.Method, "path", r.URL.Path, "err", err)
	httpserve.WriteError(w, http.StatusInternalServerError, "", "internal error; see the server log")
}
