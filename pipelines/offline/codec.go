package offline

import (
	"encoding/binary"
	"errors"
)

// The accumulators that cross a shuffle have binary coders (registered with beam.RegisterCoder
// beside their types): Beam's default schema coder goes through reflection, which costs more
// than the aggregation itself at tens of millions of events.

// enc appends values to a buffer.
type enc []byte

func (e *enc) uint(v uint64) { *e = binary.AppendUvarint(*e, v) }
func (e *enc) int(v int64)   { *e = binary.AppendVarint(*e, v) }
func (e *enc) str(s string)  { e.uint(uint64(len(s))); *e = append(*e, s...) }
func (e *enc) bytes() []byte { return *e }

// dec reads values back; the first error sticks and later reads return zero values.
type dec struct {
	b   []byte
	err error
}

var errTruncated = errors.New("decode: truncated value")

func (d *dec) uint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string {
	n := d.uint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errTruncated
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a slice length, refusing more elements than bytes left (each takes one at least).
func (d *dec) count() int {
	n := d.uint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = errTruncated
		return 0
	}
	return int(n)
}

// done is the decoder's error, or one about bytes left over.
func (d *dec) done() error {
	if d.err == nil && len(d.b) > 0 {
		return errors.New("decode: bytes left over")
	}
	return d.err
}
