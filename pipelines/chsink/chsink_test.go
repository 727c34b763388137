package chsink_test

import (
	"context"
	"testing"

	"github.com/citypulse/citypulse/internal/testenv"
	"github.com/citypulse/citypulse/pipelines/chsink"
)

func TestSinkWritesAndFailsOnRefusedRows(t *testing.T) {
	whCfg, conn := testenv.Warehouse(t)
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE TABLE sink_t (id UInt32, name String) ENGINE = MergeTree ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	s := &chsink.Sink{Warehouse: whCfg, Table: "sink_t", Columns: []string{"id", "name"}, Namespace: "test"}
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)

	for i, name := range []string{"a", "b", "c"} {
		if err := s.Write(ctx, []any{uint32(i + 1), name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("flush of good rows: %v", err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM sink_t WHERE name IN ('a', 'b', 'c')").Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d rows after flush (%v), want 3", n, err)
	}

	// A row whose values the table refuses fails the flush instead of vanishing.
	if err := s.Write(ctx, []any{"not a number", "d"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil {
		t.Fatal("flush of a refused row succeeded; want an error so the bundle is retried")
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("the refusal was reported twice: %v", err)
	}
}

func TestLoadedAtIsStablePerBundle(t *testing.T) {
	var s chsink.Sink
	a := s.LoadedAt()
	if b := s.LoadedAt(); !a.Equal(b) {
		t.Fatalf("LoadedAt changed within a bundle: %v then %v", a, b)
	}
}
