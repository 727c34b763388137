package warehouse

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema file, warehouse/migrations/NNNN_name.sql.
type Migration struct {
	Version  int    // NNNN
	Name     string // the file name, e.g. 0001_foundation.sql
	SQL      string // the file's text; {db} stands for the quoted database
	Checksum string // hex SHA-256 of the file's bytes
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// Migrations returns the embedded migrations in version order. It fails on a file whose name does
// not follow NNNN_name.sql, on version 0 and on a version used twice.
func Migrations() ([]Migration, error) {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	seen := map[int]string{}
	var out []Migration
	for _, e := range ents {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_lowercase_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if v == 0 {
			return nil, fmt.Errorf("migration file %s: version 0000 is reserved", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration files %s and %s: same version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Statements returns the migration's statements for the database, {db} replaced by its quoted name.
func (m Migration) Statements(database string) []string {
	stmts := SplitStatements(m.SQL)
	for i, s := range stmts {
		stmts[i] = strings.ReplaceAll(s, "{db}", QuoteIdent(database))
	}
	return stmts
}

// SplitStatements splits a migration file into statements. Lines whose first non-blank characters
// are "--" are dropped; a statement ends at a line whose last non-blank character is ";". The
// semicolons and surrounding blanks are removed and empty statements skipped. A ";" at a line end
// inside a string literal or after an inline "--" comment would also end a statement: migration
// files must not have one there.
func SplitStatements(sql string) []string {
	var stmts []string
	var cur strings.Builder
	flush := func() {
		s := strings.TrimLeftFunc(cur.String(), unicode.IsSpace)
		s = strings.TrimRightFunc(s, func(r rune) bool { return r == ';' || unicode.IsSpace(r) })
		if s != "" {
			stmts = append(stmts, s)
		}
		cur.Reset()
	}
	for _, line := range strings.Split(sql, "\n") {
		if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimRightFunc(line, unicode.IsSpace), ";") {
			flush()
		}
	}
	flush()
	return stmts
}
