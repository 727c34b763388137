package cleaning

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

// EncryptionKeySize is the size of the personal-field encryption key: AES-256.
const EncryptionKeySize = 32

// ErrDecrypt is returned (wrapped) by Decrypt for a value that is not "<key id>:<base64>" or that
// the key does not open (another key, or the value was altered).
var ErrDecrypt = errors.New("cannot decrypt personal value")

// ParseEncryptionKey decodes an encryption key given as 64 hex digits or as base64 (standard or
// URL alphabet, padded or not); it must decode to EncryptionKeySize bytes.
func ParseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*EncryptionKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != EncryptionKeySize {
				return nil, fmt.Errorf("base64 decodes to %d bytes, want %d", len(b), EncryptionKeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%d characters: want %d bytes as %d hex digits or as base64", len(s), EncryptionKeySize, 2*EncryptionKeySize)
}

// CheckKeyID checks an encryption key id: 1 to 16 of a-z, A-Z, 0-9, _ and - (it prefixes every
// encrypted value, before a ":").
func CheckKeyID(id string) error {
	if id == "" || len(id) > 16 {
		return fmt.Errorf("key id %q: want 1 to 16 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return fmt.Errorf("key id %q: only a-z, A-Z, 0-9, _ and - are allowed", id)
		}
	}
	return nil
}

// sealer encrypts personal values with one key. It is immutable and safe for concurrent use.
type sealer struct {
	id   string
	key  []byte
	aead cipher.AEAD
	macs *macPool
}

func newSealer(key []byte, id string) (*sealer, error) {
	if len(key) != EncryptionKeySize {
		return nil, fmt.Errorf("encryption key: %d bytes, want %d", len(key), EncryptionKeySize)
	}
	if err := CheckKeyID(id); err != nil {
		return nil, fmt.Errorf("encryption %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	k := append([]byte(nil), key...)
	return &sealer{id: id, key: k, aead: aead, macs: newMACPool(k)}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return aead, nil
}

// seal encrypts one field's normalised value: "<key id>:" + base64(nonce || ciphertext and tag).
//
// The encryption is deterministic, so a batch cleaned twice writes identical bytes and
// ReplacingMergeTree rows stay identical: the nonce is the first 12 bytes of
// HMAC-SHA256(key, field || 0 || plaintext). That is safe for AES-GCM because a nonce repeats
// only for the same field and the same plaintext, and then the whole output repeats: no two
// different plaintexts are ever sealed under one nonce (short of a 96-bit HMAC collision). What
// it reveals is that two values are equal, which the keyed hash beside it reveals anyway.
func (s *sealer) seal(field, plaintext string) string {
	m := s.macs.get()
	m.WriteString(field)
	m.Write(zero[:])
	m.WriteString(plaintext)
	var sum [sha256.Size]byte
	nonce := m.Sum(sum[:0])[:s.aead.NonceSize()]
	s.macs.put(m)
	sealed := make([]byte, len(nonce), len(nonce)+len(plaintext)+s.aead.Overhead())
	copy(sealed, nonce)
	sealed = s.aead.Seal(sealed, nonce, []byte(plaintext), nil)
	out := make([]byte, len(s.id)+1+base64.StdEncoding.EncodedLen(len(sealed)))
	copy(out, s.id)
	out[len(s.id)] = ':'
	base64.StdEncoding.Encode(out[len(s.id)+1:], sealed)
	return string(out)
}

// zero separates the parts of a keyed hash.
var zero = [1]byte{0}

// mac is an HMAC-SHA256 that takes strings without copying them.
type mac interface {
	hash.Hash
	io.StringWriter
}

// macPool reuses HMAC-SHA256 states of one key (hmac.New derives the padded keys each time).
type macPool struct{ p sync.Pool }

func newMACPool(key []byte) *macPool {
	mp := &macPool{}
	mp.p.New = func() any {
		h := hmac.New(sha256.New, key)
		if m, ok := h.(mac); ok {
			return m
		}
		return stringWriter{h}
	}
	return mp
}

func (mp *macPool) get() mac { return mp.p.Get().(mac) }

func (mp *macPool) put(m mac) { m.Reset(); mp.p.Put(m) }

// stringWriter adds WriteString to a hash that lacks it.
type stringWriter struct{ hash.Hash }

func (w stringWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

// Encrypt is the stored form of a personal value of the given field under key and keyID, as the
// cleaning pipeline writes it to <field>_enc.
func Encrypt(key []byte, keyID, field, plaintext string) (string, error) {
	s, err := newSealer(key, keyID)
	if err != nil {
		return "", err
	}
	return s.seal(field, plaintext), nil
}

// KeyID returns the key id an encrypted value names, so a caller holding several keys (after a
// rotation) picks the one to Decrypt with.
func KeyID(value string) (string, error) {
	id, _, ok := strings.Cut(value, ":")
	if !ok || CheckKeyID(id) != nil {
		return "", fmt.Errorf("%w: no key id", ErrDecrypt)
	}
	return id, nil
}

// Decrypt opens a value of a <field>_enc column with key (the key its KeyID names). Only callers
// entitled to see personal data in clear may call it: tests, and an audited reveal API.
func Decrypt(key []byte, value string) (string, error) {
	if _, err := KeyID(value); err != nil {
		return "", err
	}
	_, b64, _ := strings.Cut(value, ":")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if len(key) != EncryptionKeySize {
		return "", fmt.Errorf("%w: key of %d bytes, want %d", ErrDecrypt, len(key), EncryptionKeySize)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	n := aead.NonceSize()
	if len(raw) < n+aead.Overhead() {
		return "", fmt.Errorf("%w: %d bytes, too short", ErrDecrypt, len(raw))
	}
	plain, err := aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", fmt.Errorf("%w: wrong key or altered value", ErrDecrypt)
	}
	return string(plain), nil
}
