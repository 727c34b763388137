"""Replays, on chDB (the current ClickHouse engine in-process), every migration and every statement
the test suite recorded against ClickHouse 18.16 (warehouse.RecordStatementsEnv), and exits 1 when
the current engine rejects one that 18.16 accepted.

    python replay.py [-v] [--report FILE] [--migrations DIR] RECORDING...   # directories or .jsonl files

Each distinct statement (the same SQL, parameter types and 18.16 outcome, across all processes) is
run once, in the order first recorded, in one database with the migrations applied: queries and
DDL with their recorded parameters bound the way clickhouse-go binds them, batch INSERTs (their
PrepareBatch SQL) with one row of the recorded column types. Per statement it reports one of
  pass             18.16 and the current engine both accept it (or 18.16 refused it only for
                   its state at the time, e.g. a lock table that existed)
  migration        a migration statement: applied, and checked, before the replay starts
  rejected-by-both 18.16 rejected it too (a test that provokes an error): not a difference
  accepted-now     18.16 rejected it, the current engine accepts it
  parsed-only      it failed for the replay's state (a table a test dropped, …) but parses
  FAIL             the current engine rejects a statement 18.16 accepted (or never answered)
and, for batch INSERTs, any column whose type differs between the engines."""

import argparse
import glob
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import chsql  # noqa: E402

DATABASE = "citypulse"
HERE = os.path.dirname(os.path.abspath(__file__))
INSERT_RE = re.compile(r"(?is)^\s*INSERT\s+INTO\s+([^\s(]+)\s*(\(.*?\))?")


def load(paths):
    """Distinct statements of every recording, in file order and then first-seen order."""
    files = []
    for p in paths:
        files += sorted(glob.glob(os.path.join(p, "*.jsonl"))) if os.path.isdir(p) else [p]
    seen, out, lines = set(), [], 0
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                lines += 1
                s = json.loads(line)
                key = (s["op"], " ".join(s["sql"].split()), s["outcome"], s.get("code", 0),
                       tuple((a.get("name", ""), a["type"]) for a in s.get("args") or []))
                if key not in seen:
                    seen.add(key)
                    s["file"] = os.path.basename(f)
                    out.append(s)
    return files, lines, out


def external_tables():
    """(name, columns) of external_tables.tsv."""
    with open(os.path.join(HERE, "external_tables.tsv"), encoding="utf-8") as fh:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in fh
                if line.strip() and not line.startswith("#")]


def split_table(name, database):
    parts = [p.strip("`") for p in re.split(r"\.(?=(?:[^`]*`[^`]*`)*[^`]*$)", name)]
    return (parts[0], parts[1]) if len(parts) == 2 else (database, parts[0])


def sample_value(typ):
    """A value of the type: its default, but 1 for Int8 (a CollapsingMergeTree sign must be ±1)."""
    if typ == "Int8":
        return "toInt8(1)"
    return "defaultValueOfTypeName('%s')" % typ.replace("\\", "\\\\").replace("'", "\\'")


def sample_insert(sql, columns):
    """The batch's INSERT with one row of default values of the recorded types."""
    m = INSERT_RE.match(sql)
    if not m:
        raise ValueError("not an INSERT INTO")
    if not columns:  # PrepareBatch failed on 18.16: send the INSERT with no rows
        return m.group(0) + " VALUES", m.group(1)
    cols = ", ".join(chsql.quote_ident(c["name"]) for c in columns)
    vals = ", ".join(sample_value(c["type"]) for c in columns)
    return "INSERT INTO %s (%s) SELECT %s" % (m.group(1), cols, vals), m.group(1)


def column_types(engine, table, database):
    db, t = split_table(table, database)
    ok, _, out = engine.run("SELECT name, type FROM system.columns WHERE database = '%s' AND table = '%s'"
                            % (db.replace("'", "\\'"), t.replace("'", "\\'")))
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line) if ok else {}


class Replay:
    def __init__(self, engine, migrations_dir):
        self.engine, self.migrations_dir = engine, migrations_dir
        self.remigrations = 0
        self.created = []  # replayed CREATE statements that succeeded, in order
        self.migration_sql = {" ".join(st.split()) for _, sql in chsql.migrations(migrations_dir)
                              for st in chsql.split_statements(sql)}

    def migrate(self):
        fails = chsql.apply_migrations(self.engine, self.migrations_dir, DATABASE)
        self.engine.run("USE " + chsql.quote_ident(DATABASE))
        for name, cols in external_tables():
            self.engine.run("CREATE TABLE IF NOT EXISTS %s.%s (%s) ENGINE = Memory" % (
                chsql.quote_ident(DATABASE), chsql.quote_ident(name), cols))
        return fails

    def run(self, sql):
        t0 = time.time()
        ok, code, msg = self.engine.run(sql)
        if not ok and code in (60, 81):
            # A test dropped its tables or database: restore the schema (migrations, then every
            # CREATE replayed so far) and retry once.
            self.remigrations += 1
            self.migrate()
            for c in self.created:
                self.engine.run(c)
            ok, code, msg = self.engine.run(sql)
        if ok and re.match(r"(?i)\s*CREATE\s", sql):
            self.created.append(sql)
        self.last_ms = (time.time() - t0) * 1000
        return ok, code, msg

    def statement(self, s):
        """Returns (status, code, message, sql run, type differences)."""
        diffs = []
        self.last_ms = 0
        if " ".join(s["sql"].split()) in self.migration_sql:
            return "migration", 0, "", s["sql"], diffs  # applied (and checked) with the migrations
        if s["op"] == "batch" and not s.get("columns"):
            # PrepareBatch failed on 18.16 (a test provoking it): no statement reached the server.
            return "rejected-by-both", 0, "the batch never reached 18.16 (PrepareBatch failed there)", s["sql"], diffs
        try:
            if s["op"] == "batch":
                sql, table = sample_insert(chsql.substitute_db(s["sql"], DATABASE), s.get("columns") or [])
            else:
                sql = chsql.substitute_db(chsql.bind(s["sql"], s.get("args") or []), DATABASE)
        except ValueError as e:
            return "FAIL", -1, "cannot replay: %s" % e, s["sql"], diffs
        ok, code, msg = self.run(sql)
        if s["op"] == "batch" and s["outcome"] == "ok":
            now = column_types(self.engine, table, DATABASE)
            diffs = [(c["name"], c["type"], now.get(c["name"], "missing")) for c in s.get("columns") or []
                     if now and now.get(c["name"]) != c["type"]]
        if ok:
            if s["outcome"] == "server_error" and s.get("code") not in chsql.STATE_CODES:
                return "accepted-now", 0, "", sql, diffs
            return "pass", 0, "", sql, diffs
        if s["outcome"] == "server_error":
            return "rejected-by-both", code, msg, sql, diffs
        if code in chsql.STATE_CODES:
            pok, pcode, pmsg = self.engine.run("EXPLAIN AST " + sql)
            if pok:
                return "parsed-only", code, msg, sql, diffs
            return "FAIL", pcode, pmsg, sql, diffs
        return "FAIL", code, msg, sql, diffs


def one_line(sql, n=160):
    s = " ".join(sql.split())
    return s if len(s) <= n else s[:n - 1] + "…"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("recordings", nargs="+")
    ap.add_argument("--migrations", default=os.path.join(HERE, "..", "..", "warehouse", "migrations"))
    ap.add_argument("--report", help="write every statement's result here (JSON lines)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every statement's result, not only failures")
    args = ap.parse_args()

    start = time.time()
    files, lines, stmts = load(args.recordings)
    engine = chsql.Engine()
    rp = Replay(engine, args.migrations)
    n_mig = sum(len(chsql.split_statements(sql)) for _, sql in chsql.migrations(args.migrations))
    mig_fails = rp.migrate()
    print("chDB %s (ClickHouse %s): %d migration statements, %d failed" % (
        __import__("chdb").__version__, engine.version, n_mig, len(mig_fails)))
    for name, i, sql, msg in mig_fails:
        print("FAIL migration %s statement %d: %s\n    %s" % (name, i, one_line(sql), msg.splitlines()[0]))

    counts, report, type_diffs = {}, [], []
    for s in stmts:
        status, code, msg, sql, diffs = rp.statement(s)
        counts[status] = counts.get(status, 0) + 1
        report.append({"status": status, "file": s["file"], "seq": s["seq"], "op": s["op"],
                       "recorded": s["outcome"], "recorded_code": s.get("code", 0), "code": code,
                       "ms": round(rp.last_ms, 1), "error": msg.splitlines()[0] if msg else "",
                       "sql": sql})
        if args.verbose and status != "FAIL":
            print("%s %s#%d %s: %s" % (status, s["file"], s["seq"], s["op"], one_line(sql, 120)))
        if status == "FAIL":
            print("FAIL %s#%d %s: %s\n    %s" % (s["file"], s["seq"], s["op"], one_line(sql),
                                                 msg.splitlines()[0] if msg else ""))
        for name, old, new in diffs:
            type_diffs.append((s["file"], s["seq"], sql, name, old, new))
            print("TYPE %s#%d column %s: 18.16 %s, current %s (%s)" % (s["file"], s["seq"], name, old, new,
                                                                       one_line(sql, 80)))
    engine.close()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            for r in report:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    failed = counts.get("FAIL", 0) + len(mig_fails)
    print("chDB replay: %d recording files, %d recorded lines, %d distinct statements replayed: %s; "
          "%d column type differences; %d re-migrations; %.1f s" % (
              len(files), lines, len(stmts),
              ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())) or "none",
              len(type_diffs), rp.remigrations, time.time() - start))
    if not stmts:
        print("chDB replay: no statements recorded (set CITYPULSE_RECORD_STATEMENTS while the tests run)")
        return 1
    print("chDB replay: %s" % ("FAILED: %d statements rejected by the current engine" % failed
                               if failed else "every statement accepted"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
