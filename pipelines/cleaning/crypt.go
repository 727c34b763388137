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
	var sealed []byte
	return string(s.appendSeal(nil, &sealed, field, plaintext))
}

// appendSeal appends seal(field, plaintext) to b; *work is a reusable buffer for the sealed
// bytes.
func (s *sealer) appendSeal(b []byte, work *[]byte, field, plaintext string) []byte {
	m := s.macs.get()
	m.WriteString(field)
	m.Write(zero[:])
	m.WriteString(plaintext)
	n := s.aead.NonceSize()
	// nonce || plaintext in *work, sealed in place: the ciphertext overwrites the plaintext copy
	// and follows the nonce, as the stored form wants.
	buf := append(append((*work)[:0], m.Sum()[:n]...), plaintext...)
	s.macs.put(m)
	sealed := s.aead.Seal(buf[:n], buf[:n], buf[n:], nil)
	*work = sealed
	b = append(b, s.id...)
	b = append(b, ':')
	return base64.StdEncoding.AppendEncode(b, sealed)
}

// zero separates the parts of a keyed hash.
var zero = [1]byte{0}

// mac is a pooled HMAC-SHA256 state. It gathers what is written in its own buffer and hashes it
// in one Write at Sum, so that writing strings copies them once and nothing escapes per call.
type mac struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func (m *mac) WriteString(s string) { m.buf = append(m.buf, s...) }

func (m *mac) Write(b []byte) { m.buf = append(m.buf, b...) }

// Sum returns the HMAC of what was written, in m's own array (valid until the next Sum).
func (m *mac) Sum() []byte {
	m.h.Write(m.buf)
	return m.h.Sum(m.sum[:0])
}

// macPool reuses HMAC-SHA256 states of one key (hmac.New derives the padded keys each time).
type macPool struct{ p sync.Pool }

func newMACPool(key []byte) *macPool {
	mp := &macPool{}
	mp.p.New = func() any { return &mac{h: hmac.New(sha256.New, key)} }
	return mp
}

func (mp *macPool) get() *mac { return mp.p.Get().(*mac) }

func (mp *macPool) put(m *mac) {
	m.h.Reset()
	m.buf = m.buf[:0]
	mp.p.Put(m)
}

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
