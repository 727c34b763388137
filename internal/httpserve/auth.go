package httpserve

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// HasBearer reports whether r carries "Authorization: Bearer <token>" with exactly token,
// compared in constant time. An empty token matches nothing.
func HasBearer(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// WriteUnauthorized answers 401 with a Bearer challenge for realm, naming the setting whose
// value the caller must send.
func WriteUnauthorized(w http.ResponseWriter, realm, setting string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
	WriteError(w, http.StatusUnauthorized, "Authorization", "want Bearer <"+setting+">")
}
