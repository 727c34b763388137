package feeds

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// SecretsConfig is how the sources' HMAC secrets are kept at rest.
type SecretsConfig struct {
	// Key, when set, encrypts every secret issued from now on with AES-256-GCM before it is
	// stored; secrets stored earlier in clear stay readable. Empty stores secrets in clear (hex):
	// then guard the metadata store like a key store.
	Key string `flag:"feeds-secrets-key" help:"32-byte key (64 hex digits or base64) encrypting the sources' HMAC secrets in the metadata store with AES-256-GCM; empty stores them in clear"`
}

// encPrefix marks a stored secret encrypted under SecretsConfig.Key.
const encPrefix = "aesgcm:"

// ParseSecretsKey decodes a 32-byte key given as 64 hex digits or base64 ("" gives nil).
func ParseSecretsKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("feeds-secrets-key: want 32 bytes as 64 hex digits or base64")
}

// Validate checks the key's form.
func (c SecretsConfig) Validate() error {
	_, err := ParseSecretsKey(c.Key)
	return err
}

// secretBox seals and opens stored secrets; a nil box stores them in clear.
type secretBox struct{ aead cipher.AEAD }

func newSecretBox(key []byte) (*secretBox, error) {
	if key == nil {
		return nil, nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("feeds secrets key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("feeds secrets key: %w", err)
	}
	return &secretBox{aead: aead}, nil
}

// aad binds a sealed secret to its source and key id, so a sealed value copied to another row
// does not open.
func aad(source, keyID string) []byte { return []byte(source + "\x00" + keyID) }

// seal returns the stored form of secret.
func (b *secretBox) seal(source, keyID string, secret []byte) string {
	if b == nil {
		return hex.EncodeToString(secret)
	}
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails
	return encPrefix + base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, secret, aad(source, keyID)))
}

// open returns the secret of a stored value.
func (b *secretBox) open(source, keyID, stored string) ([]byte, error) {
	sealed, ok := strings.CutPrefix(stored, encPrefix)
	if !ok {
		s, err := hex.DecodeString(stored)
		if err != nil {
			return nil, fmt.Errorf("source %s key %s: stored secret is not hex", source, keyID)
		}
		return s, nil
	}
	if b == nil {
		return nil, fmt.Errorf("source %s key %s: the secret is stored encrypted; set feeds-secrets-key", source, keyID)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, fmt.Errorf("source %s key %s: stored secret is not readable", source, keyID)
	}
	n := b.aead.NonceSize()
	s, err := b.aead.Open(nil, raw[:n], raw[n:], aad(source, keyID))
	if err != nil {
		return nil, fmt.Errorf("source %s key %s: the secret does not open with feeds-secrets-key (another key?)", source, keyID)
	}
	return s, nil
}
