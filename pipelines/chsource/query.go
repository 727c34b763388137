package chsource

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/citypulse/citypulse/warehouse"
)

// Kind is the Go type a column is read as; the source casts the expression to it in SQL.
type Kind uint8

// The kinds of columns.
const (
	String Kind = iota // toString(expr), read into Col.Str
	Int                // toInt64(expr), read into Col.Int
	Uint               // toUInt64(expr), read into Col.Uint
	Float              // toFloat64(expr), read into Col.Float
)

func (k Kind) String() string {
	switch k {
	case String:
		return "String"
	case Int:
		return "Int64"
	case Uint:
		return "UInt64"
	case Float:
		return "Float64"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

var cast = map[Kind]string{String: "toString", Int: "toInt64", Uint: "toUInt64", Float: "toFloat64"}

// Column is one column of a Query's result.
type Column struct {
	// Name labels the column for people and Block.Index; unique within a query.
	Name string
	// Expr is the SQL expression; "" means the table column Name.
	Expr string
	Kind Kind
}

// Query is what a source reads. Its SQL fragments are written by the program, never by users;
// values reach them only as ? parameters (WhereArgs, HavingArgs).
type Query struct {
	// Table is a table of the connection's database.
	Table string
	// Final reads with FINAL (ReplacingMergeTree: one row per sorting key, the latest version).
	Final bool
	// Columns are read in this order into Block.Cols.
	Columns []Column
	// Where filters rows ("" for all); each ? takes the next of WhereArgs (use toDate(?) and
	// the like for non-string types). With Final, filter only on columns every version of a row
	// shares (e.g. sorting-key columns), or FINAL sees fewer versions than the table has.
	Where     string
	WhereArgs []string
	// SplitKey is a String expression the rows are cut by; with GroupBy, every group must have
	// a single value of it (group by it, or by something that determines it).
	SplitKey string
	// KeyPrefix > 0 plans on the first KeyPrefix bytes of the split key only, which keeps the
	// plan small for keys with many values (user ids); units stay whole ranges of the key.
	KeyPrefix int
	// GroupBy and Having, when set, make the query an aggregation; Having's ? take HavingArgs.
	GroupBy    string
	Having     string
	HavingArgs []string
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ErrInvalidQuery is matched by errors about a Query that cannot be read.
var ErrInvalidQuery = errors.New("invalid chsource query")

// Validate reports what is wrong with the query.
func (q Query) Validate() error {
	var errs []error
	if !nameRE.MatchString(q.Table) {
		errs = append(errs, fmt.Errorf("table %q: want a plain table name", q.Table))
	}
	if len(q.Columns) == 0 {
		errs = append(errs, errors.New("columns: none"))
	}
	seen := map[string]bool{}
	for i, c := range q.Columns {
		if c.Name == "" || seen[c.Name] {
			errs = append(errs, fmt.Errorf("column %d: name %q is empty or repeated", i, c.Name))
		}
		seen[c.Name] = true
		if _, ok := cast[c.Kind]; !ok {
			errs = append(errs, fmt.Errorf("column %s: unknown kind %d", c.Name, c.Kind))
		}
		if c.Expr == "" && !nameRE.MatchString(c.Name) {
			errs = append(errs, fmt.Errorf("column %s: no expression, and the name is no column name", c.Name))
		}
		if strings.Contains(c.Expr, "?") {
			errs = append(errs, fmt.Errorf("column %s: parameters belong in Where or Having", c.Name))
		}
	}
	if strings.TrimSpace(q.SplitKey) == "" {
		errs = append(errs, errors.New("split key: empty"))
	}
	if q.KeyPrefix < 0 {
		errs = append(errs, fmt.Errorf("key prefix %d: negative", q.KeyPrefix))
	}
	if n := strings.Count(q.Where, "?"); n != len(q.WhereArgs) {
		errs = append(errs, fmt.Errorf("where: %d placeholders, %d args", n, len(q.WhereArgs)))
	}
	if n := strings.Count(q.Having, "?"); n != len(q.HavingArgs) {
		errs = append(errs, fmt.Errorf("having: %d placeholders, %d args", n, len(q.HavingArgs)))
	}
	if q.Having != "" && q.GroupBy == "" {
		errs = append(errs, errors.New("having without group by"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	return nil
}

func (q Query) from() string {
	s := warehouse.QuoteIdent(q.Table)
	if q.Final {
		s += " FINAL"
	}
	return s
}

func (q Query) where() string {
	if strings.TrimSpace(q.Where) == "" {
		return "1"
	}
	return "(" + q.Where + ")"
}

// planKey is the split-key expression the plan groups by.
func (q Query) planKey() string {
	if q.KeyPrefix > 0 {
		return fmt.Sprintf("substring(%s, 1, %d)", q.SplitKey, q.KeyPrefix)
	}
	return q.SplitKey
}

// planSQL counts the rows per partition and split-key value (or prefix), in order. It reads
// without FINAL: the counts only size the units.
func (q Query) planSQL() (string, []any) {
	sql := fmt.Sprintf("SELECT _partition_id AS p, %s AS k, count() AS n FROM %s WHERE %s GROUP BY p, k ORDER BY p, k",
		q.planKey(), warehouse.QuoteIdent(q.Table), q.where())
	return sql, anys(q.WhereArgs)
}

// unitSQL reads one unit: the rows of partition part whose split key is in [lo, hi), where an
// empty bound is open.
func (q Query) unitSQL(part string, lo, hi *string) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range q.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		expr := c.Expr
		if expr == "" {
			expr = c.Name
		}
		fmt.Fprintf(&b, "%s(%s) AS c%d", cast[c.Kind], expr, i)
	}
	fmt.Fprintf(&b, " FROM %s WHERE %s AND _partition_id = ?", q.from(), q.where())
	args := append(anys(q.WhereArgs), part)
	if lo != nil {
		fmt.Fprintf(&b, " AND (%s) >= ?", q.SplitKey)
		args = append(args, *lo)
	}
	if hi != nil {
		fmt.Fprintf(&b, " AND (%s) < ?", q.SplitKey)
		args = append(args, *hi)
	}
	if q.GroupBy != "" {
		b.WriteString(" GROUP BY " + q.GroupBy)
	}
	if q.Having != "" {
		b.WriteString(" HAVING " + q.Having)
		args = append(args, anys(q.HavingArgs)...)
	}
	return b.String(), args
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
