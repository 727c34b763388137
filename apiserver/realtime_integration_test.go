package apiserver_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestRealtimeEndpoint(t *testing.T) {
	s, _ := newServer(t, false)
	h := s.Handler()
	status, body := call(t, h, "/api/v1/realtime?region=510104017001&step=minute")
	if status != http.StatusOK {
		t.Fatalf("GET realtime: %d %s", status, body)
	}
	var got struct {
		Region string
		Points []struct {
			Events uint64 `json:"events"`
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Region != "510104017001" || len(got.Points) < 60 || len(got.Points) > 61 {
		t.Fatalf("answer: region %s, %d points", got.Region, len(got.Points))
	}
	for _, c := range []struct{ target, field string }{
		{"/api/v1/realtime?step=week", "step"},
		{"/api/v1/realtime?region=12", "region"},
	} {
		status, body := call(t, h, c.target)
		var e struct{ Error struct{ Field string } }
		_ = json.Unmarshal(body, &e)
		if status != http.StatusBadRequest || e.Error.Field != c.field {
			t.Errorf("%s: %d %s", c.target, status, body)
		}
	}
}
