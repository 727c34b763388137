package pipelines_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/citypulse/citypulse/pipelines"
)

// TestCleanEncryptionConfig: the encryption key is 32 bytes as hex or base64, its id a short
// token; errors name the flag.
func TestCleanEncryptionConfig(t *testing.T) {
	key32 := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name, key, id string
		flag          string // the flag the error names; "" for no error
	}{
		{"default", pipelines.DevCleanEncryptionKey, "k1", ""},
		{"base64", base64.StdEncoding.EncodeToString(key32), "k2", ""},
		{"base64 url unpadded", base64.RawURLEncoding.EncodeToString(key32), "2025-q1", ""},
		{"hex upper case", strings.ToUpper(pipelines.DevCleanEncryptionKey), "k1", ""},
		{"empty key", "", "k1", "clean-encryption-key"},
		{"short hex", pipelines.DevCleanEncryptionKey[:62], "k1", "clean-encryption-key"},
		{"16-byte key", base64.StdEncoding.EncodeToString(key32[:16]), "k1", "clean-encryption-key"},
		{"raw text", string(key32), "k1", "clean-encryption-key"},
		{"no id", pipelines.DevCleanEncryptionKey, "", "clean-encryption-key-id"},
		{"id with colon", pipelines.DevCleanEncryptionKey, "k:1", "clean-encryption-key-id"},
		{"long id", pipelines.DevCleanEncryptionKey, strings.Repeat("k", 17), "clean-encryption-key-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := pipelines.DefaultConfig()
			cfg.CleanEncryptionKey, cfg.CleanEncryptionKeyID = tt.key, tt.id
			err := cfg.Validate()
			switch {
			case tt.flag == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.flag != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.flag+":")):
				t.Fatalf("Validate = %v, want an error naming %s", err, tt.flag)
			}
		})
	}
}
