package chsource

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
)

func validQuery() Query {
	return Query{Table: "dwd_events", Final: true, SplitKey: "region_code",
		Columns: []Column{{Name: "user_key"}, {Name: "t", Expr: "event_time", Kind: Int}},
		Where:   "event_date = toDate(?)", WhereArgs: []string{"2026-11-01"}}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Query)
		want string // "" = valid
	}{
		{"valid", func(*Query) {}, ""},
		{"table", func(q *Query) { q.Table = "a;b" }, "table"},
		{"no columns", func(q *Query) { q.Columns = nil }, "columns: none"},
		{"repeated name", func(q *Query) { q.Columns = append(q.Columns, Column{Name: "t", Expr: "1"}) }, "repeated"},
		{"bad kind", func(q *Query) { q.Columns[0].Kind = 9 }, "unknown kind"},
		{"expression without expr", func(q *Query) { q.Columns[0].Name = "a b" }, "no column name"},
		{"parameter in column", func(q *Query) { q.Columns[1].Expr = "t > ?" }, "parameters belong"},
		{"no split key", func(q *Query) { q.SplitKey = " " }, "split key"},
		{"args", func(q *Query) { q.WhereArgs = nil }, "1 placeholders, 0 args"},
		{"having args", func(q *Query) { q.GroupBy, q.Having = "user_key", "count() > ?" }, "having: 1 placeholders"},
		{"having alone", func(q *Query) { q.Having = "1" }, "having without group by"},
		{"negative prefix", func(q *Query) { q.KeyPrefix = -1 }, "negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := validQuery()
			c.edit(&q)
			err := q.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrInvalidQuery)):
				t.Fatalf("error %v, want one containing %q and matching ErrInvalidQuery", err, c.want)
			}
		})
	}
}

func TestUnitSQL(t *testing.T) {
	lo, hi := "5101", "5102"
	q := validQuery()
	q.GroupBy, q.Having, q.HavingArgs = "user_key", "count() > ?", []string{"3"}
	cases := []struct {
		name   string
		lo, hi *string
		sql    string
		args   []any
	}{
		{"open", nil, nil, "SELECT toString(user_key) AS c0, toInt64(event_time) AS c1 FROM `dwd_events` FINAL WHERE (event_date = toDate(?)) AND _partition_id = ? GROUP BY user_key HAVING count() > ?",
			[]any{"2026-11-01", "202611", "3"}},
		{"closed", &lo, &hi, "SELECT toString(user_key) AS c0, toInt64(event_time) AS c1 FROM `dwd_events` FINAL WHERE (event_date = toDate(?)) AND _partition_id = ? AND (region_code) >= ? AND (region_code) < ? GROUP BY user_key HAVING count() > ?",
			[]any{"2026-11-01", "202611", "5101", "5102", "3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sql, args := q.unitSQL("202611", c.lo, c.hi)
			if sql != c.sql || !reflect.DeepEqual(args, c.args) {
				t.Errorf("got\n%s %v\nwant\n%s %v", sql, args, c.sql, c.args)
			}
		})
	}
	q.KeyPrefix = 2
	if sql, _ := q.planSQL(); !strings.Contains(sql, "substring(region_code, 1, 2) AS k") || strings.Contains(sql, "FINAL") {
		t.Errorf("plan SQL %s: want the key prefix and no FINAL", sql)
	}
}

func TestShardSplits(t *testing.T) {
	sh := Shard{Partition: "p", Bounds: []string{"a", "b", "c", "d", "e"}, Rows: []int64{10, 10, 30, 5, 5}}
	all := offsetrange.Restriction{Start: 0, End: 5}
	cases := []struct {
		rows int64
		r    offsetrange.Restriction
		want []offsetrange.Restriction
	}{
		{1000, all, []offsetrange.Restriction{all}},
		{20, all, []offsetrange.Restriction{{Start: 0, End: 2}, {Start: 2, End: 3}, {Start: 3, End: 5}}},
		{1, all, []offsetrange.Restriction{{Start: 0, End: 1}, {Start: 1, End: 2}, {Start: 2, End: 3}, {Start: 3, End: 4}, {Start: 4, End: 5}}},
		{15, offsetrange.Restriction{Start: 1, End: 4}, []offsetrange.Restriction{{Start: 1, End: 3}, {Start: 3, End: 4}}},
	}
	for _, c := range cases {
		got := sh.splits(c.r, c.rows)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("splits(%v, %d) = %v, want %v", c.r, c.rows, got, c.want)
		}
	}
	if n := sh.size(all); n != 60 {
		t.Errorf("size = %d, want 60", n)
	}
	for u, want := range [][2]string{{"", "b"}, {"b", "c"}, {"e", ""}} {
		idx := []int64{0, 1, 4}[u]
		lo, hi := sh.bounds(idx)
		got := [2]string{}
		if lo != nil {
			got[0] = *lo
		}
		if hi != nil {
			got[1] = *hi
		}
		if got != want {
			t.Errorf("bounds(%d) = %q, want %q", idx, got, want)
		}
	}
}

func TestBlockCoder(t *testing.T) {
	cases := []Block{
		{Len: 0, Cols: []Col{{Str: []string{}}}},
		{Len: 2, Cols: []Col{{Str: []string{"", "城市"}}, {Int: []int64{-5, 1 << 62}}, {Uint: []uint64{0, 1<<64 - 1}}, {Float: []float64{0.1, -3}}}},
	}
	for _, b := range cases {
		enc, err := encodeBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeBlock(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b) {
			t.Errorf("round trip %+v → %+v", b, got)
		}
		for cut := 0; cut < len(enc); cut++ {
			if _, err := decodeBlock(enc[:cut]); err == nil {
				t.Errorf("decoding %d of %d bytes: no error", cut, len(enc))
			}
		}
	}
	if _, err := encodeBlock(Block{Len: 2, Cols: []Col{{Str: []string{"x"}}}}); err == nil {
		t.Error("a column shorter than Len encoded")
	}
}

// FuzzDecodeBlock: the Block coder refuses bad bytes with an error, never a panic, and what it
// decodes round-trips.
func FuzzDecodeBlock(f *testing.F) {
	enc, _ := encodeBlock(Block{Len: 2, Cols: []Col{{Str: []string{"a", "b"}}, {Int: []int64{1, -1}}, {Uint: []uint64{3, 4}}, {Float: []float64{1, 2}}}})
	f.Add(enc)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := decodeBlock(b)
		if err != nil {
			return
		}
		enc, err := encodeBlock(blk)
		if err != nil {
			t.Fatalf("a decoded block does not encode: %v", err)
		}
		again, err := decodeBlock(enc)
		if err != nil || !reflect.DeepEqual(again, blk) {
			t.Fatalf("%x decodes to %+v, which round-trips to %+v, %v", b, blk, again, err)
		}
	})
}
