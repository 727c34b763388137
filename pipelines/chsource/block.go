package chsource

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.Function1x2(encodeBlock)
	register.Function1x2(decodeBlock)
	beam.RegisterCoder(reflect.TypeOf(Block{}), encodeBlock, decodeBlock)
}

// Block is up to Options.BlockRows rows of a query, by column: Cols[i] holds Query.Columns[i]
// in the slice of its Kind (the others are nil), Len values long.
type Block struct {
	Len  int
	Cols []Col
}

// Col is one column of a Block: exactly one slice is set, by the column's Kind.
type Col struct {
	Str   []string
	Int   []int64
	Uint  []uint64
	Float []float64
}

// Index returns the position of the column named name in q's columns, or -1.
func (q Query) Index(name string) int {
	for i, c := range q.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// newBlock makes an empty block for the query's columns with room for n rows.
func newBlock(cols []Column, n int) Block {
	b := Block{Cols: make([]Col, len(cols))}
	for i, c := range cols {
		switch c.Kind {
		case String:
			b.Cols[i].Str = make([]string, 0, n)
		case Int:
			b.Cols[i].Int = make([]int64, 0, n)
		case Uint:
			b.Cols[i].Uint = make([]uint64, 0, n)
		case Float:
			b.Cols[i].Float = make([]float64, 0, n)
		}
	}
	return b
}

// The coder: Len, the number of columns, then per column a kind byte and Len values (strings as
// length and bytes, integers as varints, floats as 8 bytes little-endian).
func encodeBlock(b Block) ([]byte, error) {
	out := binary.AppendUvarint(nil, uint64(b.Len))
	out = binary.AppendUvarint(out, uint64(len(b.Cols)))
	for i, c := range b.Cols {
		switch {
		case c.Str != nil && len(c.Str) == b.Len:
			out = append(out, byte(String))
			for _, s := range c.Str {
				out = binary.AppendUvarint(out, uint64(len(s)))
				out = append(out, s...)
			}
		case c.Int != nil && len(c.Int) == b.Len:
			out = append(out, byte(Int))
			for _, v := range c.Int {
				out = binary.AppendVarint(out, v)
			}
		case c.Uint != nil && len(c.Uint) == b.Len:
			out = append(out, byte(Uint))
			for _, v := range c.Uint {
				out = binary.AppendUvarint(out, v)
			}
		case c.Float != nil && len(c.Float) == b.Len:
			out = append(out, byte(Float))
			for _, v := range c.Float {
				out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
			}
		default:
			return nil, fmt.Errorf("encode block: column %d has no slice of %d values", i, b.Len)
		}
	}
	return out, nil
}

var errShortBlock = errors.New("decode block: truncated")

func decodeBlock(in []byte) (Block, error) {
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(in)
		if n <= 0 {
			return 0, errShortBlock
		}
		in = in[n:]
		return v, nil
	}
	n, err := uv()
	if err != nil {
		return Block{}, err
	}
	nc, err := uv()
	if err != nil {
		return Block{}, err
	}
	if n > uint64(len(in)) || nc > uint64(len(in))+1 {
		return Block{}, errShortBlock // every value takes at least a byte
	}
	b := Block{Len: int(n), Cols: make([]Col, nc)}
	for i := range b.Cols {
		if len(in) == 0 {
			return Block{}, errShortBlock
		}
		kind := Kind(in[0])
		in = in[1:]
		c := &b.Cols[i]
		switch kind {
		case String:
			c.Str = make([]string, n)
			for j := range c.Str {
				l, err := uv()
				if err != nil || l > uint64(len(in)) {
					return Block{}, errShortBlock
				}
				c.Str[j], in = string(in[:l]), in[l:]
			}
		case Int:
			c.Int = make([]int64, n)
			for j := range c.Int {
				v, k := binary.Varint(in)
				if k <= 0 {
					return Block{}, errShortBlock
				}
				c.Int[j], in = v, in[k:]
			}
		case Uint:
			c.Uint = make([]uint64, n)
			for j := range c.Uint {
				if c.Uint[j], err = uv(); err != nil {
					return Block{}, err
				}
			}
		case Float:
			if uint64(len(in)) < 8*n {
				return Block{}, errShortBlock
			}
			c.Float = make([]float64, n)
			for j := range c.Float {
				c.Float[j], in = math.Float64frombits(binary.LittleEndian.Uint64(in)), in[8:]
			}
		default:
			return Block{}, fmt.Errorf("decode block: column %d has unknown kind %d", i, kind)
		}
	}
	if len(in) != 0 {
		return Block{}, fmt.Errorf("decode block: %d bytes left over", len(in))
	}
	return b, nil
}
