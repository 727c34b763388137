package feeds

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/citypulse/citypulse/ingest/feeds/feedrecord"
	"github.com/citypulse/citypulse/ingest/feeds/signature"
)

func TestSignedPush(t *testing.T) {
	e := newEnv(t, nil)
	body := []byte("姓名,证件号,备注\n张三,510104199001011234,新迁入\n李四,510104198502023456\n王五,510104197003034567,\n")
	req := e.request("POST", "/v1/feeds/person", body, http.Header{"Content-Type": {"text/csv"}, HeaderStandardVersion: {"1"}})
	status, m, eb := e.do(req)
	if status != http.StatusOK {
		t.Fatalf("status %d %+v", status, eb)
	}
	if m.RowsIn != 3 || m.RowsAccepted != 2 || m.RowsRejected != 1 || m.Status != StatusOK || m.Charset != "utf-8" || m.Format != "csv" ||
		len(m.Rejections) != 1 || m.Rejections[0].Row != 2 || !strings.Contains(m.Rejections[0].Reason, "has 2 columns") || len(m.BatchID) != 26 {
		t.Fatalf("manifest %+v", m)
	}
	recs := e.consume("person", 2)
	sort.Slice(recs, func(i, j int) bool { return recs[i].Row < recs[j].Row })
	r := recs[0]
	if r.BatchID != m.BatchID || r.Source != "shebao" || r.Dataset != "person" || r.Row != 1 || r.StandardVersion != "1" ||
		r.Fields["name"] != "张三" || r.Fields["id_number"] != "510104199001011234" || r.Unmapped["备注"] != "新迁入" || recs[1].Row != 3 {
		t.Fatalf("records %+v", recs)
	}
	if n := e.count("SELECT count() FROM ods_feed_records WHERE batch_id = ? AND source = 'shebao' AND dataset = 'person'", m.BatchID); n != 2 {
		t.Fatalf("%d rows in ods_feed_records", n)
	}
	var raw string
	if err := e.conn.QueryRow(context.Background(), "SELECT raw FROM ods_feed_records WHERE batch_id = ? AND row_no = 3", m.BatchID).Scan(&raw); err != nil ||
		raw != `{"备注":"","姓名":"王五","证件号":"510104197003034567"}` {
		t.Fatalf("raw %q %v", raw, err)
	}
	var rej []string
	var accepted uint64
	if err := e.conn.QueryRow(context.Background(), "SELECT rows_accepted, rejections FROM ods_feed_batches WHERE batch_id = ?", m.BatchID).Scan(&accepted, &rej); err != nil ||
		accepted != 2 || len(rej) != 1 || !strings.HasPrefix(rej[0], "row 2: has 2 columns") {
		t.Fatalf("ods_feed_batches: %d %q %v", accepted, rej, err)
	}
	log, err := e.store.UsageLog(context.Background(), "shebao", 5)
	if err != nil || len(log) != 1 || log[0].BatchID != m.BatchID || log[0].Status != StatusOK || log[0].RowsAccepted != 2 || log[0].Action != "push" {
		t.Fatalf("usage log %+v %v", log, err)
	}

	// JSON lines, gzip-free, to a dataset without mapping: fields pass through.
	req = e.request("POST", "/v1/feeds/job", []byte("{\"单位\":\"市图书馆\",\"人数\":12}\n[1]\n"), http.Header{"Content-Type": {"application/x-ndjson"}})
	if status, m, eb = e.do(req); status != http.StatusOK || m.RowsAccepted != 1 || m.RowsRejected != 1 {
		t.Fatalf("jsonl: %d %+v %+v", status, m, eb)
	}
	if recs := e.consume("job", 1); recs[0].Fields["单位"] != "市图书馆" || recs[0].Fields["人数"] != 12.0 {
		t.Fatalf("jsonl record %+v", recs[0])
	}

	// gzip-compressed GBK CSV declared by its charset: the signature covers the compressed bytes.
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("单位,人数\n市档案馆,7\n"))
	req = e.request("POST", "/v1/feeds/job", gzipped(t, gbk), http.Header{"Content-Type": {"text/csv; charset=GBK"}, "Content-Encoding": {"gzip"}})
	if status, m, eb = e.do(req); status != http.StatusOK || m.RowsAccepted != 1 || m.Charset != "gb18030" {
		t.Fatalf("gzip gbk csv: %d %+v %+v", status, m, eb)
	}
	// The topic has several partitions: find this batch's record rather than trusting order.
	var got *feedrecord.Record
	recs = e.consume("job", 2)
	for i := range recs {
		if recs[i].BatchID == m.BatchID {
			got = &recs[i]
		}
	}
	if got == nil || got.Fields["单位"] != "市档案馆" || got.Fields["人数"] != "7" {
		t.Fatalf("gzip gbk record %+v", got)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	body := []byte("姓名,证件号\n张三,1\n")
	csv := http.Header{"Content-Type": {"text/csv"}}
	resign := func(req *http.Request, ts time.Time, secret []byte) {
		signature.Sign(req, "shebao", secret, signature.BodySHA256(body), ts)
	}
	for _, tc := range []struct {
		name   string
		edit   func(req *http.Request)
		status int
		field  string
		reason string
	}{
		{"signed", func(*http.Request) {}, 200, "", ""},
		{"bad signature", func(r *http.Request) { resign(r, time.Now(), []byte("not the secret at all")) }, 401, signature.HeaderSignature, "does not match"},
		{"body changed", func(r *http.Request) { r.Body = http.NoBody; r.ContentLength = 0 }, 401, signature.HeaderSignature, "does not match"},
		{"stale timestamp", func(r *http.Request) { resign(r, time.Now().Add(-6*time.Minute), e.secret) }, 401, signature.HeaderTimestamp, "replay window"},
		{"future timestamp", func(r *http.Request) { resign(r, time.Now().Add(6*time.Minute), e.secret) }, 401, signature.HeaderTimestamp, "replay window"},
		{"charset changed after signing", func(r *http.Request) { r.Header.Set("Content-Type", "text/csv; charset=GBK") }, 401, signature.HeaderSignature, "does not match"},
		{"standard version changed after signing", func(r *http.Request) { r.Header.Set(HeaderStandardVersion, "2") }, 401, signature.HeaderSignature, "does not match"},
		{"no signature", func(r *http.Request) { r.Header.Del(signature.HeaderSignature) }, 401, signature.HeaderSignature, "missing"},
		{"unknown source", func(r *http.Request) { r.Header.Set(signature.HeaderSource, "gongan") }, 401, signature.HeaderSource, "unknown source"},
		{"dataset not allowed", func(r *http.Request) {
			r.URL.Path = "/v1/feeds/house"
			resign(r, time.Now(), e.secret)
		}, 403, "dataset", `may not send dataset "house"`},
		{"not a push format", func(r *http.Request) {
			r.Header.Set("Content-Type", "application/vnd.apache.parquet")
			resign(r, time.Now(), e.secret)
		}, 415, "Content-Type", "uploaded as a file"},
		{"bad dataset name", func(r *http.Request) { r.URL.Path = "/v1/feeds/Person" }, 404, "dataset", "lower-case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := e.request("POST", "/v1/feeds/person", body, csv)
			tc.edit(req)
			status, _, eb := e.do(req)
			if status != tc.status || status != 200 && (eb.Error.Field != tc.field || !strings.Contains(eb.Error.Message, tc.reason)) {
				t.Fatalf("got %d %+v; want %d %s …%s…", status, eb.Error, tc.status, tc.field, tc.reason)
			}
		})
	}

	t.Run("replayed nonce", func(t *testing.T) {
		req := e.request("POST", "/v1/feeds/person", body, csv)
		again := req.Clone(ctx)
		again.Body, again.ContentLength = http.NoBody, int64(len(body))
		again.GetBody = nil
		if status, _, eb := e.do(req); status != 200 {
			t.Fatalf("first: %d %+v", status, eb)
		}
		again.Body = (&bodyCopy{b: body}).reader()
		status, _, eb := e.do(again)
		if status != 401 || eb.Error.Field != signature.HeaderNonce || !strings.Contains(eb.Error.Message, "replayed") {
			t.Fatalf("replay: %d %+v", status, eb)
		}
		// A second gateway sharing the metadata store (another replica) refuses it too.
		other, err := New(e.gw.cfg, e.gw.deps)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close(ctx)
		if rerr := other.verify(ctx, again, mustParse(t, again), [][]byte{e.secret}, signature.BodySHA256(body)); rerr == nil || rerr.field != signature.HeaderNonce {
			t.Fatalf("replica accepted a replay: %v", rerr)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		k2, err := e.store.AddKey(ctx, "shebao")
		if err != nil {
			t.Fatal(err)
		}
		old := e.secret
		e.secret = k2.Secret
		if status, _, eb := e.do(e.request("POST", "/v1/feeds/person", body, csv)); status != 200 {
			t.Fatalf("new key: %d %+v", status, eb)
		}
		e.secret = old
		if status, _, eb := e.do(e.request("POST", "/v1/feeds/person", body, csv)); status != 200 {
			t.Fatalf("old key during rotation: %d %+v", status, eb)
		}
		keys, _ := e.store.ActiveKeys(ctx, "shebao")
		for _, k := range keys {
			if string(k.Secret) == string(old) {
				if err := e.store.RevokeKey(ctx, "shebao", k.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if status, _, eb := e.do(e.request("POST", "/v1/feeds/person", body, csv)); status != 401 || eb.Error.Field != signature.HeaderSignature {
			t.Fatalf("revoked key: %d %+v", status, eb)
		}
	})

	t.Run("progress", func(t *testing.T) {
		e.secret = mustKey(t, e)
		_, m, _ := e.do(e.request("POST", "/v1/feeds/person", body, csv))
		status, got, eb := e.do(e.request("GET", "/v1/feeds/batches/"+m.BatchID, nil, nil))
		if status != 200 || got.BatchID != m.BatchID || got.RowsAccepted != 1 || got.Status != StatusOK {
			t.Fatalf("progress %d %+v %+v", status, got, eb)
		}
		if status, _, _ := e.do(e.request("GET", "/v1/feeds/batches/01ARZ3NDEKTSV4RRFFQ69G5FAV", nil, nil)); status != 404 {
			t.Fatalf("unknown batch: %d", status)
		}
	})
}

type bodyCopy struct{ b []byte }

func (c *bodyCopy) reader() *readCloser { return &readCloser{r: strings.NewReader(string(c.b))} }

type readCloser struct{ r *strings.Reader }

func (r *readCloser) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *readCloser) Close() error               { return nil }

func mustParse(t *testing.T, r *http.Request) signature.Params {
	p, err := signature.Parse(r.Header)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustKey(t *testing.T, e *env) []byte {
	keys, err := e.store.ActiveKeys(context.Background(), "shebao")
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v %v", keys, err)
	}
	return keys[len(keys)-1].Secret
}
