package pipelines_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/citypulse/citypulse/internal/bus"
	"github.com/citypulse/citypulse/pipelines"
	"github.com/citypulse/citypulse/pipelines/cleaning"
	"github.com/citypulse/citypulse/warehouse"
)

// columnsOf returns a table's or view's columns in their order (system.columns lists them so; 18.16 has
// no position column).
func columnsOf(t *testing.T, s *stack, table string) []string {
	t.Helper()
	rows, err := s.Conn.Query(context.Background(), "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ?", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return cols
}

// TestCleanTablesAndViews: every dwd_ table has exactly its Spec's columns; its analyst view
// v_<table> has them all but the *_enc ones, in the same order; running the CREATE statements of
// the encryption migration again (CREATE VIEW IF NOT EXISTS on this server) changes nothing.
func TestCleanTablesAndViews(t *testing.T) {
	s := newStack(t)
	check := func() {
		t.Helper()
		for ds, spec := range cleaning.Specs {
			got := columnsOf(t, s, spec.Table)
			if want := spec.ColumnNames(); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
				t.Errorf("%s: table %s has columns %q, want %q", ds, spec.Table, got, want)
			}
			want := slices.DeleteFunc(got, func(c string) bool { return strings.HasSuffix(c, "_enc") })
			if view := columnsOf(t, s, "v_"+spec.Table); !slices.Equal(view, want) {
				t.Errorf("%s: view v_%s has columns %q, want %q (no *_enc)", ds, spec.Table, view, want)
			}
		}
	}
	check()
	ms, err := warehouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Name != "0007_personal_encryption.sql" {
			continue
		}
		n := 0
		for _, stmt := range m.Statements(s.Warehouse.Database) {
			if strings.HasPrefix(stmt, "CREATE") {
				if err := s.Conn.Exec(context.Background(), stmt); err != nil {
					t.Fatalf("again: %s: %v", stmt, err)
				}
				n++
			}
		}
		if n != 1+len(cleaning.Specs) {
			t.Errorf("re-ran %d CREATE statements, want ods_staged_rows and %d views", n, len(cleaning.Specs))
		}
	}
	check()
}

// checkEncrypted: every non-empty *_enc value of the table opens with the development key to a
// value whose mask is the *_masked beside it, and no expected clear value opens from nowhere.
func checkEncrypted(t *testing.T, s *stack, spec cleaning.Spec, clear []string) {
	t.Helper()
	key, err := cleaning.ParseEncryptionKey(pipelines.DevCleanEncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	var opened []string
	for f, mask := range spec.Protect {
		rows, err := s.Conn.Query(context.Background(), "SELECT "+f+"_enc, "+f+"_masked FROM "+spec.Table+" FINAL WHERE "+f+"_enc != ''")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var enc, masked string
			if err := rows.Scan(&enc, &masked); err != nil {
				t.Fatal(err)
			}
			v, err := cleaning.Decrypt(key, enc)
			if err != nil || mask(v) != masked || !strings.HasPrefix(enc, "k1:") {
				t.Errorf("%s.%s_enc %q opens to %q (%v), masked %q", spec.Table, f, enc, v, err, masked)
			}
			opened = append(opened, v)
		}
		rows.Close()
	}
	for _, v := range clear {
		if !slices.Contains(opened, v) {
			t.Errorf("%s: %s is not among the decrypted values %q", spec.Table, v, opened)
		}
	}
}

// TestCleanPersonEncrypted: a person's resident ID and mobile are stored encrypted (they open to
// the normalised values), the row holds them nowhere in clear, and the analyst view shows the
// masked forms only.
func TestCleanPersonEncrypted(t *testing.T) {
	s := newStack(t)
	id := residentID("51010419850712001")
	ensureTopic(t, s.Bus, bus.FeedsTopic("person"))
	produce(t, s.Bus, personRecord(t, "gongan", 1, time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC),
		map[string]any{"id_card": " " + id, "name": "张三", "mobile": "１３８-００１３-８０００", "residence_status": "1", "region_code": "510104017001"}))
	if c := s.RunOnce().Clean["person"]; c == nil || c.Written != 1 {
		t.Fatalf("person cleaning %+v, want one row", c)
	}
	checkEncrypted(t, s, cleaning.Specs["person"], []string{id, "13800138000"})
	for _, v := range []string{id, "13800138000"} {
		if n := s.Count("SELECT count() FROM dwd_person WHERE position(concat("+stringColumns(t, s, "dwd_person")+"), ?) > 0", v); n != 0 {
			t.Errorf("%s stored in clear", v)
		}
	}
	if got := stringOf(t, s, "SELECT concat(id_card_masked, ' ', mobile_masked) FROM v_dwd_person"); got != "510104********"+id[14:]+" 138****8000" {
		t.Errorf("v_dwd_person shows %q", got)
	}
}
