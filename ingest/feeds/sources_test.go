package feeds

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/ingest/feeds/signature"
	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

func shebao() Source {
	return Source{ID: "shebao", Name: "市社保局", Kind: KindDepartment, Datasets: map[string]DatasetConfig{
		"person": {Mapping: map[string]string{"姓名": "name", "证件号": "id_number"}, KeyField: "id_number"},
		"job":    {},
	}}
}

func TestSourceStore(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		ctx := context.Background()
		st, err := NewStore(ctx, ms)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Source(ctx, "shebao"); !errors.Is(err, ErrNoSource) {
			t.Fatalf("unknown source: %v", err)
		}
		if _, err := st.AddKey(ctx, "shebao"); !errors.Is(err, ErrNoSource) {
			t.Fatalf("key for unknown source: %v", err)
		}
		s := shebao()
		if err := st.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err := st.Source(ctx, "shebao")
		if err != nil {
			t.Fatal(err)
		}
		s.Datasets["job"] = DatasetConfig{Mapping: map[string]string{}}
		if !reflect.DeepEqual(got, s) {
			t.Fatalf("got %+v\nwant %+v", got, s)
		}
		// Re-register: datasets replaced.
		s.Datasets = map[string]DatasetConfig{"house": {Mapping: map[string]string{"地址": "address"}}}
		s.Disabled = true
		if err := st.Register(ctx, s); err != nil {
			t.Fatal(err)
		}
		if got, _ = st.Source(ctx, "shebao"); !reflect.DeepEqual(got, s) {
			t.Fatalf("after re-register got %+v", got)
		}
		// Rotation: two active keys, a third refused until one is revoked.
		k1, err := st.AddKey(ctx, "shebao")
		if err != nil {
			t.Fatal(err)
		}
		k2, err := st.ImportKey(ctx, "shebao", []byte("0123456789abcdef-imported"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddKey(ctx, "shebao"); !errors.Is(err, ErrTooManyKeys) {
			t.Fatalf("third key: %v", err)
		}
		keys, err := st.ActiveKeys(ctx, "shebao")
		if err != nil || len(keys) != 2 {
			t.Fatalf("keys %v %v", keys, err)
		}
		if err := st.RevokeKey(ctx, "shebao", k1.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeKey(ctx, "shebao", k1.ID); !errors.Is(err, ErrNoKey) {
			t.Fatalf("revoke twice: %v", err)
		}
		keys, _ = st.ActiveKeys(ctx, "shebao")
		if len(keys) != 1 || keys[0].ID != k2.ID || string(keys[0].Secret) != "0123456789abcdef-imported" {
			t.Fatalf("keys after revoke: %+v", keys)
		}
		// Nonces: shared replay protection.
		p := signature.Params{Source: "shebao", Nonce: "0123456789abcdef", Timestamp: time.Now().Unix()}
		if err := st.CheckNonce(ctx, p); err != nil {
			t.Fatal(err)
		}
		var se *signature.Error
		if err := st.CheckNonce(ctx, p); !errors.As(err, &se) || se.Header != signature.HeaderNonce {
			t.Fatalf("replayed nonce: %v", err)
		}
		if n, err := st.PurgeNonces(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		// Usage log.
		for i, id := range []string{"b1", "b2"} {
			if err := st.LogUse(ctx, Usage{BatchID: id, At: time.Unix(int64(1000+i), 0), Source: "shebao", Dataset: "house", Action: "push", RowsIn: 3, Status: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
		log, err := st.UsageLog(ctx, "shebao", 10)
		if err != nil || len(log) != 2 || log[0].BatchID != "b2" || log[1].RowsIn != 3 {
			t.Fatalf("usage log %+v %v", log, err)
		}
	})
}

func TestSourceValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Source)
		want string
	}{
		{"ok", func(*Source) {}, ""},
		{"id", func(s *Source) { s.ID = "a b" }, "source id"},
		{"name", func(s *Source) { s.Name = "" }, "name is required"},
		{"kind", func(s *Source) { s.Kind = "x" }, "kind"},
		{"region", func(s *Source) { s.RegionCode = "5101" }, "region_code"},
		{"dataset", func(s *Source) { s.Datasets["Bad.Name"] = DatasetConfig{} }, "feed dataset"},
		{"two to one", func(s *Source) { s.Datasets["person"].Mapping["名字"] = "name" }, "both map to field"},
	} {
		s := shebao()
		tc.edit(&s)
		err := s.Validate()
		if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want …%s…", tc.name, err, tc.want)
		}
	}
}
