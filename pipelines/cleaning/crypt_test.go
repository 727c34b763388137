package cleaning

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestEncryptDecrypt(t *testing.T) {
	key := testKeys.Encryption
	other := []byte("fedcba9876543210fedcba9876543210")
	id := maleID
	v, err := Encrypt(key, "k1", "id_card", id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "k1:") || strings.Contains(v, id) {
		t.Fatalf("sealed %q: want k1:<base64>, no clear value", v)
	}
	raw, err := base64.StdEncoding.DecodeString(v[3:])
	if err != nil || len(raw) != 12+len(id)+16 {
		t.Fatalf("sealed %q: want base64 of nonce, ciphertext and tag (%d bytes, %v)", v, len(raw), err)
	}
	if got, err := Decrypt(key, v); err != nil || got != id {
		t.Fatalf("Decrypt = %q, %v; want the ID back", got, err)
	}
	if kid, err := KeyID(v); err != nil || kid != "k1" {
		t.Errorf("KeyID = %q, %v", kid, err)
	}
	again, _ := Encrypt(key, "k1", "id_card", id)
	if again != v {
		t.Error("not deterministic: a re-sent batch would write other bytes")
	}
	if w, _ := Encrypt(key, "k1", "owner_id_card", id); w == v || w[3:15] == v[3:15] {
		t.Error("another field shares the nonce")
	}
	if w, _ := Encrypt(key, "k1", "id_card", femaleID); w[3:19] == v[3:19] {
		t.Error("another value shares the nonce")
	}
	if w, _ := Encrypt(other, "k1", "id_card", id); w == v {
		t.Error("another key gives the same value")
	}
	if got, err := Decrypt(other, v); !errors.Is(err, ErrDecrypt) || got != "" {
		t.Errorf("Decrypt with the wrong key = %q, %v; want ErrDecrypt", got, err)
	}
	b := []byte(v)
	b[len(b)-3] ^= 1
	if _, err := Decrypt(key, string(b)); !errors.Is(err, ErrDecrypt) {
		t.Errorf("an altered value decrypts: %v", err)
	}
	for _, bad := range []string{"", "k1", "k1:", "k1:!!!", ":AAAA", "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 27))} {
		if _, err := Decrypt(key, bad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Decrypt(%q) = %v, want ErrDecrypt", bad, err)
		}
	}
	if _, err := Decrypt(key[:16], v); !errors.Is(err, ErrDecrypt) {
		t.Errorf("a 16-byte key: %v", err)
	}
	if _, err := Encrypt(key[:31], "k1", "f", "x"); err == nil {
		t.Error("a 31-byte key encrypts")
	}
	if _, err := Encrypt(key, "k:1", "f", "x"); err == nil {
		t.Error("a key id with a colon encrypts")
	}
}

func TestParseEncryptionKey(t *testing.T) {
	want := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		in string
		ok bool
	}{
		{"3031323334353637383961626364656630313233343536373839616263646566", true},
		{" 3031323334353637383961626364656630313233343536373839616263646566\n", true},
		{base64.StdEncoding.EncodeToString([]byte(want)), true},
		{base64.RawURLEncoding.EncodeToString([]byte(want)), true},
		{want, false},
		{"", false},
		{"303132", false},
		{base64.StdEncoding.EncodeToString([]byte(want + "x")), false},
	}
	for _, tt := range tests {
		got, err := ParseEncryptionKey(tt.in)
		if (err == nil) != tt.ok || (tt.ok && string(got) != want) {
			t.Errorf("ParseEncryptionKey(%q) = %q, %v; want ok %v", tt.in, got, err, tt.ok)
		}
	}
}

// TestCleanEncrypts: a protected field is stored encrypted (and nowhere in clear); the encrypted
// value opens to the normalised value, and cleaning the record again writes the same bytes.
func TestCleanEncrypts(t *testing.T) {
	c := newCleaner(t)
	rec := feed(t, "s1", 1, with(person(" "+strings.ToLower(femaleID)), "mobile", "+86 138-0013-8000"))
	row, q := c.Clean(rec)
	if row == nil {
		t.Fatalf("quarantined: %+v", q)
	}
	for field, want := range map[string]string{"id_card_enc": femaleID, "mobile_enc": "13800138000"} {
		got, err := Decrypt(testKeys.Encryption, row.Get(field))
		if err != nil || got != want {
			t.Errorf("%s opens to %q, %v; want %q", field, got, err, want)
		}
	}
	again, _ := c.Clean(rec)
	vals, err := Specs["person"].Values(*row)
	if err != nil {
		t.Fatal(err)
	}
	vals2, _ := Specs["person"].Values(*again)
	for i, col := range Specs["person"].Columns {
		if col.Kind == KindString && vals[i] != vals2[i] {
			t.Errorf("column %s differs on a second cleaning", col.Name)
		}
		if s, ok := vals[i].(string); ok && (strings.Contains(s, femaleID) || strings.Contains(s, "13800138000")) {
			t.Errorf("column %s holds a clear value: %q", col.Name, s)
		}
	}
}

// FuzzDecrypt: any stored value either opens or fails with ErrDecrypt; never a panic.
func FuzzDecrypt(f *testing.F) {
	v, _ := Encrypt(testKeys.Encryption, "k1", "mobile", "13800138000")
	f.Add(v)
	f.Add("k1:")
	f.Add("k1:AAAA")
	f.Add(":")
	f.Fuzz(func(t *testing.T, value string) {
		got, err := Decrypt(testKeys.Encryption, value)
		if err != nil && (!errors.Is(err, ErrDecrypt) || got != "") {
			t.Fatalf("Decrypt(%q) = %q, %v", value, got, err)
		}
	})
}
