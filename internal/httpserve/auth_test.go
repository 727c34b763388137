package httpserve

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHasBearer(t *testing.T) {
	for _, tc := range []struct {
		name, header, token string
		want                bool
	}{
		{"match", "Bearer s3cret-token-123456", "s3cret-token-123456", true},
		{"wrong token", "Bearer nope", "s3cret-token-123456", false},
		{"prefix of token", "Bearer s3cret", "s3cret-token-123456", false},
		{"no scheme", "s3cret-token-123456", "s3cret-token-123456", false},
		{"basic scheme", "Basic s3cret-token-123456", "s3cret-token-123456", false},
		{"no header", "", "s3cret-token-123456", false},
		{"empty token never matches", "Bearer ", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if got := HasBearer(r, tc.token); got != tc.want {
				t.Fatalf("HasBearer(%q, %q) = %v, want %v", tc.header, tc.token, got, tc.want)
			}
		})
	}
}

func TestWriteUnauthorized(t *testing.T) {
	w := httptest.NewRecorder()
	WriteUnauthorized(w, "citypulse-api", "api-admin-token")
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="citypulse-api"` {
		t.Fatalf("got %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if !strings.Contains(w.Body.String(), `"field":"Authorization"`) || !strings.Contains(w.Body.String(), "api-admin-token") {
		t.Fatalf("body %s", w.Body.String())
	}
}
