package feeds

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
)

const testAdminToken = "admin-token-0123456789"

// admin sends an admin request with token (none when "") and returns the status and body.
func (e *env) admin(method, path, token, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func errField(t *testing.T, b []byte) string {
	t.Helper()
	var eb errorBody
	if err := json.Unmarshal(b, &eb); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	return eb.Error.Field
}

func TestAdminOffByDefault(t *testing.T) {
	e := newEnv(t, nil)
	if st, b := e.admin("GET", "/v1/admin/sources", testAdminToken, ""); st != http.StatusNotFound || !bytes.Contains(b, []byte("feeds-admin-token")) {
		t.Fatalf("admin API without a token configured: %d %s", st, b)
	}
}

func TestAdminAuth(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AdminToken = testAdminToken })
	for _, tok := range []string{"", "wrong-token-0123456789", testAdminToken + "x"} {
		if st, b := e.admin("GET", "/v1/admin/sources", tok, ""); st != http.StatusUnauthorized || errField(t, b) != "Authorization" {
			t.Errorf("token %q: %d %s", tok, st, b)
		}
	}
}

func TestAdminSourcesKeysUsage(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AdminToken = testAdminToken })
	tok := testAdminToken

	// Bad definitions name their field.
	for _, c := range []struct{ path, body, field string }{
		{"/v1/admin/sources/wuhou", `{"id":"other","name":"x","kind":"community"}`, "id"},
		{"/v1/admin/sources/wuhou", `{"name":"x","kind":"community","nmae":"typo"}`, "nmae"},
		{"/v1/admin/sources/wuhou", `{"name":"x","kind":"school"}`, "kind"},
		{"/v1/admin/sources/wuhou", `{"name":"","kind":"community"}`, "name"},
		{"/v1/admin/sources/wuhou", `{"name":"x","kind":"community","region_code":"5101"}`, "region_code"},
		{"/v1/admin/sources/wuhou", `{"name":1,"kind":"community"}`, "name"},
		{"/v1/admin/sources/wuhou", `{"name":"x","kind":"community","datasets":{"person":{"mapping":{"a":"name","b":"name"}}}}`, "datasets.person.mapping"},
	} {
		st, b := e.admin("PUT", c.path, tok, c.body)
		if st != http.StatusBadRequest || errField(t, b) != c.field {
			t.Errorf("PUT %s: %d %s, want 400 naming %q", c.body, st, b, c.field)
		}
	}

	def := `{"name":"武侯区玉林街道社区","kind":"community","region_code":"510107014001","datasets":{"job":{}}}`
	if st, b := e.admin("PUT", "/v1/admin/sources/wuhou", tok, def); st != http.StatusOK {
		t.Fatalf("PUT source: %d %s", st, b)
	}
	st, b := e.admin("GET", "/v1/admin/sources", tok, "")
	var list struct{ Sources []SourceView }
	if err := json.Unmarshal(b, &list); st != http.StatusOK || err != nil {
		t.Fatalf("list: %d %s %v", st, b, err)
	}
	if len(list.Sources) != 2 || list.Sources[0].ID != "shebao" || list.Sources[1].ID != "wuhou" || len(list.Sources[0].Keys) != 1 || len(list.Sources[1].Keys) != 0 {
		t.Fatalf("sources: %+v", list.Sources)
	}
	if bytes.Contains(b, []byte(hex.EncodeToString(e.secret))) {
		t.Fatal("the source list shows a secret")
	}
	if st, b := e.admin("GET", "/v1/admin/sources/nosuch", tok, ""); st != http.StatusNotFound {
		t.Fatalf("unknown source: %d %s", st, b)
	}

	// Issue two keys (the third is refused), push with one, revoke it, push again.
	var keys []IssuedKey
	for i := range 3 {
		st, b := e.admin("POST", "/v1/admin/sources/wuhou/keys", tok, "")
		if i == 2 {
			if st != http.StatusConflict {
				t.Fatalf("third key: %d %s", st, b)
			}
			break
		}
		var k IssuedKey
		if err := json.Unmarshal(b, &k); st != http.StatusCreated || err != nil || len(k.Secret) != 64 {
			t.Fatalf("key %d: %d %s %v", i, st, b, err)
		}
		keys = append(keys, k)
	}
	secret, _ := hex.DecodeString(keys[0].Secret)
	push := func() int {
		body := []byte("{\"单位\":\"玉林社区\",\"人数\":3}\n")
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/feeds/job", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		signature.Sign(req, "wuhou", secret, signature.BodySHA256(body), time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := push(); st != http.StatusOK {
		t.Fatalf("push with an issued key: %d", st)
	}
	if st, b := e.admin("DELETE", "/v1/admin/sources/wuhou/keys/"+keys[0].KeyID, tok, ""); st != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", st, b)
	}
	if st := push(); st != http.StatusUnauthorized {
		t.Fatalf("push with a revoked key: %d", st)
	}
	if st, _ := e.admin("DELETE", "/v1/admin/sources/wuhou/keys/"+keys[0].KeyID, tok, ""); st != http.StatusNotFound {
		t.Fatalf("revoke twice: %d", st)
	}

	st, b = e.admin("GET", "/v1/admin/usage?source=wuhou", tok, "")
	var usage struct{ Usage []Usage }
	if err := json.Unmarshal(b, &usage); st != http.StatusOK || err != nil {
		t.Fatalf("usage: %d %s %v", st, b, err)
	}
	if len(usage.Usage) != 1 || usage.Usage[0].Source != "wuhou" || usage.Usage[0].RowsAccepted != 1 || usage.Usage[0].Dataset != "job" {
		t.Fatalf("usage log: %+v", usage.Usage)
	}
	if st, b := e.admin("GET", "/v1/admin/usage?limit=0", tok, ""); st != http.StatusBadRequest || errField(t, b) != "limit" {
		t.Fatalf("bad limit: %d %s", st, b)
	}
}

func TestParseUsageQuery(t *testing.T) {
	for _, c := range []struct {
		q     string
		want  UsageQuery
		field string
	}{
		{"", UsageQuery{Limit: 100}, ""},
		{"source=shebao&limit=5", UsageQuery{Source: "shebao", Limit: 5}, ""},
		{"limit=1000", UsageQuery{Limit: 1000}, ""},
		{"limit=1001", UsageQuery{}, "limit"},
		{"limit=x", UsageQuery{}, "limit"},
		{"source=a%20b", UsageQuery{}, "source"},
		{"sauce=x", UsageQuery{}, "sauce"},
	} {
		v, _ := url.ParseQuery(c.q)
		got, err := ParseUsageQuery(v)
		if c.field != "" {
			var fe *fieldError
			if err == nil || !asFieldError(err, &fe) || fe.field != c.field {
				t.Errorf("%q: %v, want an error on %s", c.q, err, c.field)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v, want %+v", c.q, got, err, c.want)
		}
	}
}

func asFieldError(err error, fe **fieldError) bool {
	e, ok := err.(*fieldError)
	*fe = e
	return ok
}

func FuzzParseUsageQuery(f *testing.F) {
	for _, s := range []string{"", "source=shebao&limit=5", "limit=-1", "source=%ff", "limit=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q, err := ParseUsageQuery(v)
		if err == nil && (q.Limit < 1 || q.Limit > maxUsageLimit || len(q.Source) > 64) {
			t.Fatalf("accepted %+v", q)
		}
	})
}

func FuzzDecodeSource(f *testing.F) {
	for _, s := range []string{`{"id":"a","name":"b","kind":"community"}`, `{}`, `[]`, `{"id":"a","name":"b","kind":"department","datasets":{"x":{"mapping":{"":""}}}}`, `{"id":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, _, err := DecodeSource(strings.NewReader(s), "")
		if err == nil && src.Validate() != nil {
			t.Fatalf("accepted an invalid source %+v", src)
		}
	})
}
