package warehouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RecordStatementsEnv names the setting that makes every connection Open returns record the
// distinct statements it sends (deploy/chdb replays them on the current ClickHouse engine). Its
// value is a directory, where each process writes its own statements-<program>-<pid>-<random>.jsonl,
// or a file ending in .jsonl, which every process appends to. Unset (the default), nothing is
// recorded and connections are not wrapped.
const RecordStatementsEnv = "CITYPULSE_RECORD_STATEMENTS"

// RecordedStatement is one line of a recording: a distinct statement as the client sent it, the
// test database name replaced by a placeholder, with its parameters and what 18.16 answered.
type RecordedStatement struct {
	Seq     int    `json:"seq"`     // order of first sight within the process, from 1
	Program string `json:"program"` // the process's executable, e.g. apiserver.test
	// Op is the driver call: exec, query, query_row, select, async_insert or batch (PrepareBatch).
	Op string `json:"op"`
	// SQL is the statement with the database normalised: "{db}" stands for the quoted database,
	// "{dbname}" for its bare name (in string literals); placeholders (?, $1, @name) are kept.
	SQL  string        `json:"sql"`
	Args []RecordedArg `json:"args,omitempty"`
	// Columns are the INSERT's columns and their server types (batch only): the replay inserts a
	// row of these types.
	Columns []RecordedColumn `json:"columns,omitempty"`
	// Outcome is "ok", "server_error" (Code holds the ClickHouse error code) or "client_error"
	// (the context ended or the driver refused before the server answered).
	Outcome string `json:"outcome"`
	Code    int32  `json:"code,omitempty"`
	Error   string `json:"error,omitempty"`
}

// RecordedArg is one bound parameter: its Go type, its value as JSON where it has one, and the SQL
// literal clickhouse-go splices into the statement for it (the driver binds client-side).
type RecordedArg struct {
	Name    string          `json:"name,omitempty"` // for clickhouse.Named parameters
	Type    string          `json:"type"`
	Value   json.RawMessage `json:"value,omitempty"`
	Literal string          `json:"literal"`
}

// RecordedColumn is one column of a batch INSERT as the server described it.
type RecordedColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Recorder writes distinct statements as JSON lines. It is safe for concurrent use by many
// connections; each distinct (call, statement, parameter types, outcome) is written once.
type Recorder struct {
	program string

	mu   sync.Mutex
	f    *os.File
	seen map[string]bool
	seq  int
	err  error // first write error, sticky
}

// NewRecorder opens the recording target: a directory (created if missing) gets a new file of this
// process; a path ending in .jsonl is appended to.
func NewRecorder(target string) (*Recorder, error) {
	program := filepath.Base(os.Args[0])
	path := target
	if !strings.HasSuffix(target, ".jsonl") {
		if err := os.MkdirAll(target, 0o755); err != nil {
			return nil, fmt.Errorf("record statements: %w", err)
		}
		rnd := make([]byte, 4)
		_, _ = rand.Read(rnd)
		path = filepath.Join(target, fmt.Sprintf("statements-%s-%d-%s.jsonl",
			strings.TrimSuffix(program, ".test"), os.Getpid(), hex.EncodeToString(rnd)))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("record statements: %w", err)
	}
	return &Recorder{program: program, f: f, seen: map[string]bool{}}, nil
}

// Path is the file the recorder writes.
func (r *Recorder) Path() string { return r.f.Name() }

// Err returns the first error writing the recording, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close closes the file.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// claim reports whether the statement with this key is new, and marks it seen.
func (r *Recorder) claim(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] || r.err != nil {
		return false
	}
	r.seen[key] = true
	return true
}

// write appends s as the next line.
func (r *Recorder) write(s RecordedStatement) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	s.Seq, s.Program = r.seq, r.program
	line, err := json.Marshal(s)
	if err != nil {
		r.err = fmt.Errorf("record statement: %w", err)
		return
	}
	if _, err := r.f.Write(append(line, '\n')); err != nil {
		r.err = fmt.Errorf("record statement to %s: %w", r.f.Name(), err)
	}
}

// statementKey identifies a distinct statement: the call, the SQL with blanks collapsed, the
// outcome (error code) and the parameters' names and types.
func statementKey(op, sql, outcome string, code int32, args []any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%s:%d", op, strings.Join(strings.Fields(sql), " "), outcome, code)
	for _, a := range args {
		switch nv := a.(type) {
		case driver.NamedValue:
			fmt.Fprintf(&b, "\x00@%s:%T", nv.Name, nv.Value)
		case driver.NamedDateValue:
			fmt.Fprintf(&b, "\x00@%s:time.Time/%d", nv.Name, nv.Scale)
		default:
			fmt.Fprintf(&b, "\x00%T", a)
		}
	}
	return b.String()
}

// envRecorder is the process's recorder when RecordStatementsEnv is set: one file per process
// however many connections it opens. It is the package's only process-wide state and exists only
// while that setting is on.
var envRecorder = sync.OnceValues(func() (*Recorder, error) {
	return NewRecorder(os.Getenv(RecordStatementsEnv))
})

// recordFromEnv wraps conn in a recording connection when RecordStatementsEnv is set, and returns
// it unchanged otherwise. It closes conn when it fails.
func recordFromEnv(conn driver.Conn, database string) (driver.Conn, error) {
	if os.Getenv(RecordStatementsEnv) == "" {
		return conn, nil
	}
	rec, err := envRecorder()
	if err == nil {
		err = rec.Err() // a recording that stopped writing must not pass for a complete one
	}
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("%s: %w", RecordStatementsEnv, err)
	}
	return Record(conn, rec, database), nil
}

// Record wraps conn so that every statement sent through it is added to rec. database is the
// connection's CityPulse database; its name, and any test database name (test_…_<8 hex>), are
// replaced by placeholders so that statements of different tests compare equal.
func Record(conn driver.Conn, rec *Recorder, database string) driver.Conn {
	return &recordingConn{Conn: conn, rec: rec, database: database}
}

type recordingConn struct {
	driver.Conn
	rec      *Recorder
	database string

	tzOnce sync.Once
	tz     *time.Location
}

// serverTZ is the server's time zone, which decides how the driver binds a time.Time.
func (c *recordingConn) serverTZ() *time.Location {
	c.tzOnce.Do(func() {
		c.tz = time.UTC
		if v, err := c.Conn.ServerVersion(); err == nil && v.Timezone != nil {
			c.tz = v.Timezone
		}
	})
	return c.tz
}

func (c *recordingConn) record(op, query string, args []any, cols []RecordedColumn, err error) {
	s := RecordedStatement{Op: op, SQL: normalizeDatabase(query, c.database), Columns: cols, Outcome: "ok"}
	if err != nil {
		var ex *clickhouse.Exception
		if errors.As(err, &ex) {
			s.Outcome, s.Code, s.Error = "server_error", ex.Code, ex.Message
		} else {
			s.Outcome, s.Error = "client_error", err.Error()
		}
	}
	if !c.rec.claim(statementKey(op, s.SQL, s.Outcome, s.Code, args)) {
		return // seen before: the common case costs a normalisation and a map lookup
	}
	for _, a := range args {
		s.Args = append(s.Args, recordArg(c.serverTZ(), c.database, a))
	}
	c.rec.write(s)
}

func (c *recordingConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	err := c.Conn.Select(ctx, dest, query, args...)
	c.record("select", query, args, nil, err)
	return err
}

func (c *recordingConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	rows, err := c.Conn.Query(ctx, query, args...)
	c.record("query", query, args, nil, err)
	return rows, err
}

func (c *recordingConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	row := c.Conn.QueryRow(ctx, query, args...)
	var err error
	if row != nil {
		err = row.Err() // the query's error; "no rows" comes only from Scan
	}
	c.record("query_row", query, args, nil, err)
	return row
}

func (c *recordingConn) Exec(ctx context.Context, query string, args ...any) error {
	err := c.Conn.Exec(ctx, query, args...)
	c.record("exec", query, args, nil, err)
	return err
}

func (c *recordingConn) AsyncInsert(ctx context.Context, query string, wait bool, args ...any) error {
	err := c.Conn.AsyncInsert(ctx, query, wait, args...) //nolint:staticcheck // recorded as sent
	c.record("async_insert", query, args, nil, err)
	return err
}

func (c *recordingConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	b, err := c.Conn.PrepareBatch(ctx, query, opts...)
	var cols []RecordedColumn
	if err == nil && b != nil {
		for _, col := range b.Columns() {
			cols = append(cols, RecordedColumn{Name: col.Name(), Type: string(col.Type())})
		}
	}
	c.record("batch", query, nil, cols, err)
	return b, err
}
