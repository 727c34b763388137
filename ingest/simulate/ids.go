package simulate

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math/rand/v2"
)

// Kinds of derived identifiers; each names its own space so two kinds never collide.
const (
	idMessage   = 'm'
	idSession   = 's'
	idAnonymous = 'a'
	idDevice    = 'd'
	idUser      = 'u'
)

// nameUUID returns a name-based (version 5 layout, SHA-1) UUID of the seed, kind and numbers:
// the same inputs always give the same id, so a rerun re-sends the same message ids.
func nameUUID(seed int64, kind byte, a, b, c uint64) string {
	var buf [33]byte
	binary.LittleEndian.PutUint64(buf[0:], uint64(seed))
	buf[8] = kind
	binary.LittleEndian.PutUint64(buf[9:], a)
	binary.LittleEndian.PutUint64(buf[17:], b)
	binary.LittleEndian.PutUint64(buf[25:], c)
	sum := sha1.Sum(buf[:])
	return formatUUID(sum[:16], 5)
}

// randomUUID returns a version 4 layout UUID drawn from rng.
func randomUUID(rng *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
	return formatUUID(b[:], 4)
}

func formatUUID(b []byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:16])
	return string(out[:])
}

// strHash is FNV-1a of s: a stable per-name seed for the city's fixed features.
func strHash(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// mix is the SplitMix64 finaliser of a combined with b: a cheap seed for a per-key generator.
func mix(a, b uint64) uint64 {
	z := a ^ (b+0x9e3779b97f4a7c15)*0xbf58476d1ce4e5b9
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
