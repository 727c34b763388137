package signature

import (
	"net/http"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary header values to Parse and Verify: they must never panic, and an
// accepted set of headers must satisfy the documented limits.
func FuzzParse(f *testing.F) {
	f.Add("shebao", "1767225600", "0123456789abcdef0123", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	f.Add("", "", "", "")
	f.Add("a b", "+1", "短", "zz")
	f.Add("x", "999999999999999", "nonce-nonce-nonce", "AB")
	f.Fuzz(func(t *testing.T, src, ts, nonce, sig string) {
		h := http.Header{}
		h.Set(HeaderSource, src)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderNonce, nonce)
		h.Set(HeaderSignature, sig)
		p, err := Parse(h)
		if err != nil {
			return
		}
		if len(p.Signature) != 32 || len(p.Nonce) < MinNonceLen || len(p.Source) > MaxSourceLen || p.Timestamp <= 0 {
			t.Fatalf("accepted out-of-range params %+v", p)
		}
		_ = CheckTime(p, time.Unix(1_767_225_600, 0), 5*time.Minute)
		if _, err := Verify(p, "POST", "/v1/feeds/x", h, BodySHA256(nil), [][]byte{[]byte("k")}); err == nil {
			t.Fatalf("random signature %x verified", p.Signature)
		}
	})
}
