package warehouse

import (
	"context"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// insertBlockRows is how many rows an insert sends per data block. The driver's columns keep
// their memory from one block to the next (batch.Flush resets them), so a flush grows them to one
// block's size once instead of growing them, copy after copy, to the whole flush's size, which cost
// more than half the client's CPU with 10k-50k-row flushes. The server squashes the blocks of one
// INSERT into one part (min_insert_block_size_rows, 1M rows by default), as it would one big
// block; TestBatchWriterOnePartPerInsert checks that.
const insertBlockRows = 1024

// inserter appends a flush's rows to a prepared batch. An insert sent in several blocks cannot be
// taken back once a block has gone, so rows go in several blocks only when a check first finds that
// the column types accept every value; otherwise they go in one block, and a refused row aborts
// the insert before anything is sent, as it always did. Only the flush holding the writer's sem
// uses an inserter.
type inserter struct {
	blockRows int  // rows per block; 0: insertBlockRows
	oneBlock  bool // send every insert as one block, unchecked (tests: the reference path)

	types   []string           // the column types the checks are for
	checks  []func(any) bool   // per column: true when AppendRow of the value cannot fail
	scratch []column.Interface // per column, built on first need: checks values checks[j] does not know
}

// appendRows appends rows to b, whose columns are cols (named names). It returns the index of the
// first row b refused and the refusal, or -1; err is an error sending a block (b is then broken).
func (ins *inserter) appendRows(ctx context.Context, b driver.Batch, cols []column.Interface, names []string,
	rows [][]any) (failed int, appendErr, err error) {
	blockRows := ins.blockRows
	if blockRows <= 0 {
		blockRows = insertBlockRows
	}
	if ins.oneBlock || len(rows) <= blockRows || !ins.accepts(cols, names, rows) {
		for i, r := range rows {
			if err := b.Append(r...); err != nil {
				return i, err, nil
			}
		}
		return -1, nil, nil
	}
	for i, r := range rows {
		if err := b.Append(r...); err != nil {
			return i, err, nil // checked, so not expected; the caller aborts the insert
		}
		if n := i + 1; n%blockRows == 0 && n < len(rows) {
			// Flush has no context watchdog (Send has): stop between blocks at least.
			if err := ctx.Err(); err != nil {
				return -1, nil, err
			}
			if err := b.Flush(); err != nil {
				return -1, nil, err
			}
		}
	}
	return -1, nil, nil
}

// accepts reports whether the column types accept every value of rows. Values of the Go types the
// callers pass for a type (string for String, time.Time for DateTime, *T or T for Nullable(T), …)
// are known to fit; any other value is appended to a client-side column of the type, as partition
// does, which is what the driver will do with it.
func (ins *inserter) accepts(cols []column.Interface, names []string, rows [][]any) bool {
	if len(cols) != len(names) {
		return false
	}
	ins.prepare(cols)
	defer func() {
		for _, c := range ins.scratch {
			if c != nil {
				c.Reset()
			}
		}
	}()
	for _, r := range rows {
		for j, v := range r {
			if check := ins.checks[j]; check != nil && check(v) {
				continue
			}
			c := ins.scratch[j]
			if c == nil {
				var err error
				if c, err = cols[j].Type().Column(names[j], &column.ServerContext{Timezone: time.UTC}); err != nil {
					return false
				}
				ins.scratch[j] = c
			}
			if c.AppendRow(v) != nil {
				return false
			}
		}
	}
	return true
}

// prepare sets the checks for the column types of cols, unless they are those of the last call.
func (ins *inserter) prepare(cols []column.Interface) {
	same := len(ins.types) == len(cols)
	for j := 0; same && j < len(cols); j++ {
		same = ins.types[j] == string(cols[j].Type())
	}
	if same {
		return
	}
	ins.types = make([]string, len(cols))
	ins.checks = make([]func(any) bool, len(cols))
	ins.scratch = make([]column.Interface, len(cols))
	for j, c := range cols {
		ins.types[j] = string(c.Type())
		ins.checks[j] = checkFor(ins.types[j])
	}
}

// checkFor returns a check that is true for values of the Go types that the driver's AppendRow
// always accepts for column type t (nil: none known, every value goes to a client-side column).
// Keep it to types whose AppendRow has no failing branch for that Go type.
func checkFor(t string) func(any) bool {
	inner, nullable := strings.CutPrefix(t, "Nullable(")
	if nullable {
		inner = strings.TrimSuffix(inner, ")")
	}
	var plain, orPtr func(any) bool
	switch {
	case inner == "String":
		plain, orPtr = is[string], isOrPtr[string]
	case inner == "Date", inner == "DateTime", strings.HasPrefix(inner, "DateTime("):
		plain, orPtr = is[time.Time], isOrPtr[time.Time]
	case inner == "UInt8":
		plain, orPtr = is[uint8], isOrPtr[uint8]
	case inner == "UInt16":
		plain, orPtr = is[uint16], isOrPtr[uint16]
	case inner == "UInt32":
		plain, orPtr = is[uint32], isOrPtr[uint32]
	case inner == "UInt64":
		plain, orPtr = is[uint64], isOrPtr[uint64]
	case inner == "Int8":
		plain, orPtr = is[int8], isOrPtr[int8]
	case inner == "Int16":
		plain, orPtr = is[int16], isOrPtr[int16]
	case inner == "Int32":
		plain, orPtr = is[int32], isOrPtr[int32]
	case inner == "Int64":
		plain, orPtr = is[int64], isOrPtr[int64]
	case inner == "Float32":
		plain, orPtr = is[float32], isOrPtr[float32]
	case inner == "Float64":
		plain, orPtr = is[float64], isOrPtr[float64]
	case inner == "Array(String)" && !nullable:
		plain = is[[]string]
	default:
		return nil
	}
	if nullable {
		return orPtr
	}
	return plain
}

func is[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

func isOrPtr[T any](v any) bool {
	switch v.(type) {
	case T, *T:
		return true
	}
	return false
}
