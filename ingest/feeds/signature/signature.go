package signature

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The request headers of the scheme.
const (
	HeaderSource    = "X-CityPulse-Source"
	HeaderTimestamp = "X-CityPulse-Timestamp"
	HeaderNonce     = "X-CityPulse-Nonce"
	HeaderSignature = "X-CityPulse-Signature"
)

// Algorithm is the first line of the canonical string.
const Algorithm = "CITYPULSE-HMAC-SHA256"

// Limits of the header values.
const (
	MaxSourceLen = 64
	MinNonceLen  = 16
	MaxNonceLen  = 128
)

// ErrUnauthenticated is matched (errors.Is) by every *Error: the request is not authentic.
var ErrUnauthenticated = errors.New("request not authenticated")

// Error says which header failed and why. The gateway answers it with 401: a missing, malformed or
// wrong credential, a stale timestamp or a replayed nonce.
type Error struct {
	Header string
	Reason string
}

func (e *Error) Error() string { return e.Header + ": " + e.Reason }

// Is makes errors.Is(err, ErrUnauthenticated) true.
func (e *Error) Is(target error) bool { return target == ErrUnauthenticated }

func headerErr(h, format string, args ...any) *Error {
	return &Error{Header: h, Reason: fmt.Sprintf(format, args...)}
}

// Params are the parsed headers of a signed request.
type Params struct {
	Source    string
	Timestamp int64 // Unix seconds
	Nonce     string
	Signature []byte // the decoded HMAC, 32 bytes
}

// Parse reads and checks the form of the four headers. It does not check the signature, the time
// or the nonce's freshness.
func Parse(h http.Header) (Params, error) {
	var p Params
	src := h.Get(HeaderSource)
	switch {
	case src == "":
		return p, headerErr(HeaderSource, "missing")
	case len(src) > MaxSourceLen || !isToken(src):
		return p, headerErr(HeaderSource, "want 1 to %d of a-z, A-Z, 0-9, _ and -", MaxSourceLen)
	}
	p.Source = src
	ts := h.Get(HeaderTimestamp)
	if ts == "" {
		return p, headerErr(HeaderTimestamp, "missing")
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || n <= 0 || len(ts) > 12 || ts[0] == '+' {
		return p, headerErr(HeaderTimestamp, "want Unix seconds as a positive decimal number")
	}
	p.Timestamp = n
	nonce := h.Get(HeaderNonce)
	switch {
	case nonce == "":
		return p, headerErr(HeaderNonce, "missing")
	case len(nonce) < MinNonceLen || len(nonce) > MaxNonceLen || !isToken(nonce):
		return p, headerErr(HeaderNonce, "want %d to %d of a-z, A-Z, 0-9, _ and -", MinNonceLen, MaxNonceLen)
	}
	p.Nonce = nonce
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return p, headerErr(HeaderSignature, "missing")
	}
	raw, err := hex.DecodeString(sig)
	if err != nil || len(raw) != sha256.Size {
		return p, headerErr(HeaderSignature, "want %d hex digits of HMAC-SHA256", 2*sha256.Size)
	}
	p.Signature = raw
	return p, nil
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// CheckTime refuses a timestamp more than window away from now, either way.
func CheckTime(p Params, now time.Time, window time.Duration) error {
	d := now.Sub(time.Unix(p.Timestamp, 0))
	if d > window || d < -window {
		return headerErr(HeaderTimestamp, "%d is %s away from the server's time; the replay window is ±%s",
			p.Timestamp, d.Abs().Truncate(time.Second), window)
	}
	return nil
}

// SignedHeaders are the request headers a signature covers besides the scheme's own: those that
// say how the body is read (its format, character set, compression, name and standard version),
// so that nobody on the way can have a signed body read differently. An absent header is signed
// as an empty value.
var SignedHeaders = []string{"Content-Type", "Content-Encoding", "X-CityPulse-Format", "X-CityPulse-Filename", "X-CityPulse-Standard-Version"}

// Canonical is the string a request's signature covers (see the package documentation).
func Canonical(method, path string, timestamp int64, nonce string, h http.Header, bodySHA256Hex string) string {
	lines := []string{Algorithm, strings.ToUpper(method), path, strconv.FormatInt(timestamp, 10), nonce}
	for _, name := range SignedHeaders {
		lines = append(lines, strings.ToLower(name)+":"+strings.TrimSpace(headerValue(h, name)))
	}
	return strings.Join(append(lines, bodySHA256Hex), "\n")
}

// headerValue is h's first value of name, also when a client put it into the map under a
// non-canonical key (http.Header{"X-CityPulse-Format": …}), as it still goes on the wire.
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// Sum is the HMAC-SHA256 of canonical under secret.
func Sum(secret []byte, canonical string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(canonical))
	return m.Sum(nil)
}

// Verify checks p.Signature against every secret (a source has two during a rotation), comparing
// in constant time, and returns the index of the secret that matched.
func Verify(p Params, method, path string, h http.Header, bodySHA256Hex string, secrets [][]byte) (int, error) {
	canon := Canonical(method, path, p.Timestamp, p.Nonce, h, bodySHA256Hex)
	match := -1
	for i, s := range secrets {
		if hmac.Equal(Sum(s, canon), p.Signature) && match < 0 {
			match = i
		}
	}
	if match < 0 {
		return -1, headerErr(HeaderSignature, "does not match the request (method, path, timestamp, nonce, Content-Type, Content-Encoding, X-CityPulse-Format/-Filename/-Standard-Version, body SHA-256) under any active secret of source %q", p.Source)
	}
	return match, nil
}

// NewNonce returns a random 32-character nonce.
func NewNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// Sign sets the four headers on req for source with secret, over a body whose SHA-256 is
// bodySHA256 (hex), at now with a fresh nonce. Set the SignedHeaders before calling it.
func Sign(req *http.Request, source string, secret []byte, bodySHA256Hex string, now time.Time) {
	ts := now.Unix()
	nonce := NewNonce()
	canon := Canonical(req.Method, req.URL.EscapedPath(), ts, nonce, req.Header, bodySHA256Hex)
	req.Header.Set(HeaderSource, source)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, hex.EncodeToString(Sum(secret, canon)))
}

// BodySHA256 is the hex SHA-256 of body, for Sign.
func BodySHA256(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}
