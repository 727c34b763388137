package plan

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

func TestHandler(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		s := newTestStore(t, ms)
		h := Handler(s, nil)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(WithActor(r.Context(), "alice")))
		}))
		defer srv.Close()
		do := func(method, path, body string) (int, string) {
			t.Helper()
			req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		yamlPlan, err := os.ReadFile("testdata/plan.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			want                     []string // parts of the body
		}{
			{"no plan yet", "GET", APIPath, "", 404, []string{`"status":404`, "no tracking plan"}},
			{"no versions yet", "GET", APIPath + "/versions", "", 200, []string{"[]"}},
			{"apply YAML", "PUT", APIPath, string(yamlPlan), 200, []string{`"version":1`, `"changed":true`, `"op":"+","what":"track service_open"`}},
			{"apply the same", "PUT", APIPath, string(yamlPlan), 200, []string{`"version":1`, `"changed":false`}},
			{"apply JSON", "PUT", APIPath, `{"unknown_events":"reject","events":[{"name":"search","properties":{"query":{"type":"string","required":true}}}]}`, 200,
				[]string{`"version":2`, `"previous":1`, `"what":"unknown_events","detail":"flag → reject"`, `"op":"-","what":"track service_open"`}},
			{"bad plan", "PUT", APIPath, "events:\n  - name: a\n    properties:\n      p: {type: string, pattern: '('}\n", 400,
				[]string{`"field":"events[0].properties.p.pattern"`, "invalid Go regular expression"}},
			{"bad YAML", "PUT", APIPath, "events: [", 400, []string{"yaml: line 1"}},
			{"unknown JSON field", "PUT", APIPath, `{"events":[],"owner":"x"}`, 400, []string{`json: unknown field \"owner\"`}},
			{"too large", "PUT", APIPath, strings.Repeat("#", MaxPlanBytes+1), 413, []string{"larger than"}},
			{"active", "GET", APIPath, "", 200, []string{`"version":2`, `"applied_by":"alice"`, `"unknown_events":"reject"`}},
			{"active as YAML", "GET", APIPath + "?format=yaml", "", 200, []string{"unknown_events: reject\n", "- name: search\n"}},
			{"bad format", "GET", APIPath + "?format=xml", "", 400, []string{`"field":"format"`}},
			{"versions", "GET", APIPath + "/versions", "", 200, []string{`[{"version":2,`, `{"version":1,`}},
			{"version 1", "GET", APIPath + "/versions/1", "", 200, []string{`"version":1`, `"source":"# Tracking plan`}},
			{"missing version", "GET", APIPath + "/versions/7", "", 404, []string{"version 7 does not exist"}},
			{"bad version", "GET", APIPath + "/versions/x", "", 400, []string{"not a version number"}},
			{"wrong method", "DELETE", APIPath, "", 405, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := do(tc.method, tc.path, tc.body)
				if status != tc.status {
					t.Fatalf("status %d, want %d: %s", status, tc.status, body)
				}
				for _, w := range tc.want {
					if !strings.Contains(body, w) {
						t.Errorf("body lacks %s:\n%s", w, body)
					}
				}
			})
		}
		// The active plan served as JSON applies back as the same plan.
		_, body := do("GET", APIPath, "")
		var rec Record
		if err := json.Unmarshal([]byte(body), &rec); err != nil {
			t.Fatal(err)
		}
		planJSON, _ := json.Marshal(rec.Plan)
		if status, body := do("PUT", APIPath, string(planJSON)); status != 200 || !strings.Contains(body, `"changed":false`) {
			t.Fatalf("re-applying the served plan: %d %s", status, body)
		}
	})
}
