package feeds

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

func TestRegisterFile(t *testing.T) {
	ctx := context.Background()
	st, err := NewStore(ctx, metastoretest.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, body, wantErr string
	}{
		{"good", `{"id":"shebao","name":"市社保局","kind":"department","datasets":{"person":{"mapping":{"姓名":"name","证件号":"id_number"},"key_field":"id_number"}}}`, ""},
		{"typo is an error", `{"id":"shebao","name":"x","kind":"department","datsets":{}}`, "unknown field"},
		{"invalid source", `{"id":"bad id!","name":"x","kind":"department"}`, "id"},
		{"not json", `id: shebao`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := RegisterFile(ctx, st, write(tt.name+".json", tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Datasets["person"].Mapping["证件号"] != "id_number" || s.Datasets["person"].KeyField != "id_number" {
				t.Fatalf("stored source %+v", s)
			}
			k, err := st.AddKey(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := WriteNewKey(&out, s.ID, k); err != nil || !strings.Contains(out.String(), k.ID) {
				t.Fatalf("new key output %q %v", out.String(), err)
			}
			keys, err := st.ActiveKeys(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if err := WriteSource(&out, s, keys); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); !strings.Contains(got, "dataset person: 2 mapped columns, keyed by id_number") || !strings.Contains(got, "key "+k.ID) {
				t.Fatalf("source output:\n%s", got)
			}
			if strings.Contains(out.String(), hex.EncodeToString(k.Secret)) {
				t.Fatal("WriteSource printed a secret")
			}
		})
	}
}
