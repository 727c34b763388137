package feeds

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/internal/metastore"
	"github.com/citypulse/citypulse/internal/metastore/metastoretest"
)

const (
	testSecretsKey  = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	otherSecretsKey = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
)

func TestSecretsAtRest(t *testing.T) {
	metastoretest.Each(t, func(t *testing.T, ms *metastore.Store) {
		ctx := context.Background()
		plain, err := NewStore(ctx, ms)
		if err != nil {
			t.Fatal(err)
		}
		if err := plain.Register(ctx, shebao()); err != nil {
			t.Fatal(err)
		}
		old, err := plain.AddKey(ctx, "shebao") // stored in clear, before encryption was turned on
		if err != nil {
			t.Fatal(err)
		}
		enc, err := NewStore(ctx, ms, WithSecrets(SecretsConfig{Key: testSecretsKey}))
		if err != nil {
			t.Fatal(err)
		}
		k, err := enc.AddKey(ctx, "shebao")
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		if err := ms.DB().QueryRowContext(ctx, `SELECT secret FROM feed_source_keys WHERE key_id = $1`, k.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, encPrefix) || strings.Contains(stored, string(k.Secret)) {
			t.Fatalf("stored secret %q is not sealed", stored)
		}
		keys, err := enc.ActiveKeys(ctx, "shebao")
		if err != nil || len(keys) != 2 {
			t.Fatalf("active keys: %v %v", keys, err)
		}
		got := map[string][]byte{keys[0].ID: keys[0].Secret, keys[1].ID: keys[1].Secret}
		if !bytes.Equal(got[k.ID], k.Secret) || !bytes.Equal(got[old.ID], old.Secret) {
			t.Fatal("secrets do not read back")
		}

		if _, err := plain.ActiveKeys(ctx, "shebao"); err == nil || !strings.Contains(err.Error(), "feeds-secrets-key") {
			t.Fatalf("reading a sealed secret without the key: %v", err)
		}
		other, err := NewStore(ctx, ms, WithSecrets(SecretsConfig{Key: otherSecretsKey}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.ActiveKeys(ctx, "shebao"); err == nil || !strings.Contains(err.Error(), "does not open") {
			t.Fatalf("reading a sealed secret with another key: %v", err)
		}
		// A sealed value moved to another key row does not open (bound to source and key id).
		if _, err := ms.DB().ExecContext(ctx, `UPDATE feed_source_keys SET secret = $1 WHERE key_id = $2`, stored, old.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := enc.ActiveKeys(ctx, "shebao"); err == nil {
			t.Fatal("a sealed secret copied to another key id opened")
		}
	})
}

func TestParseSecretsKey(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"", true},
		{testSecretsKey, true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", true},
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", true},
		{"00", false},
		{"not a key", false},
		{testSecretsKey + "00", false},
	} {
		k, err := ParseSecretsKey(c.in)
		if (err == nil) != c.ok || (c.ok && c.in != "" && len(k) != 32) {
			t.Errorf("%q: %x %v", c.in, k, err)
		}
	}
	if err := (Config{Secrets: SecretsConfig{Key: "short"}}).Secrets.Validate(); err == nil || !strings.Contains(err.Error(), "feeds-secrets-key") {
		t.Fatalf("validate: %v", err)
	}
}
