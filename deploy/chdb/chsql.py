"""Shared helpers of the chDB replay and golden checks: a chDB session in the test server's time
zone, the migrations split as warehouse.SplitStatements splits them, and clickhouse-go's
client-side parameter binding (bind.go of clickhouse-go v2.50) applied to recorded literals."""

import os
import re
import tempfile

# The test ClickHouse (deploy/clickhouse/config.xml.in) runs in Asia/Shanghai; chDB takes its
# server time zone from TZ, so both engines read and print DateTime values alike.
SERVER_TZ = "Asia/Shanghai"

# Errors that come from the replay's own state (a table a test dropped, a database of another
# test), not from the engine refusing the statement: the statement is retried once after the
# migrations are applied again, and if it still fails it is reported as not checked.
STATE_CODES = {
    57: "TABLE_ALREADY_EXISTS", 60: "UNKNOWN_TABLE", 81: "UNKNOWN_DATABASE",
    82: "DATABASE_ALREADY_EXISTS", 159: "TIMEOUT_EXCEEDED", 394: "QUERY_WAS_CANCELLED",
}

CODE_RE = re.compile(r"Code: (\d+)\.")


class Engine:
    """One chDB session in a private directory."""

    def __init__(self, path=None):
        os.environ["TZ"] = SERVER_TZ
        from chdb import session  # imported after TZ is set: chDB reads it once

        self._tmp = None
        if path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="citypulse-chdb-")
            path = self._tmp.name
        self.session = session.Session(path)
        self.version = self.query("SELECT version()", "TSVRaw").strip()
        # Bound every replayed statement: a test's deliberately endless query must not hang us.
        self.query("SET max_execution_time = 20")

    def query(self, sql, fmt="TSVRaw"):
        res = self.session.query(sql, fmt)
        return res.bytes().decode("utf-8", "replace") if hasattr(res, "bytes") else str(res)

    def run(self, sql, fmt="TSVRaw"):
        """Runs sql and returns (ok, code, message or output)."""
        try:
            return True, 0, self.query(sql, fmt)
        except Exception as e:  # chdb raises ChdbError (a RuntimeError) with the server's text
            msg = str(e)
            m = CODE_RE.search(msg)
            return False, int(m.group(1)) if m else -1, msg

    def close(self):
        self.session.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def quote_ident(name):
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def split_statements(sql):
    """warehouse.SplitStatements: drop "--" lines; a statement ends at a line ending in ";"."""
    stmts, cur = [], []

    def flush():
        s = "".join(cur).lstrip().rstrip("; \t\r\n")
        if s:
            stmts.append(s)
        cur.clear()

    for line in sql.split("\n"):
        if line.lstrip().startswith("--"):
            continue
        cur.append(line + "\n")
        if line.rstrip().endswith(";"):
            flush()
    flush()
    return stmts


def migrations(directory):
    """(name, sql) of warehouse/migrations/NNNN_name.sql in version order."""
    names = sorted(n for n in os.listdir(directory) if re.fullmatch(r"[0-9]{4}_[a-z0-9_]+\.sql", n))
    return [(n, open(os.path.join(directory, n), encoding="utf-8").read()) for n in names]


def apply_migrations(engine, directory, database):
    """Creates the database and applies every migration; returns [(migration, n, sql, error)]."""
    failures = []
    ok, _, msg = engine.run("CREATE DATABASE IF NOT EXISTS " + quote_ident(database))
    if not ok:
        failures.append(("CREATE DATABASE", 0, database, msg))
    for name, sql in migrations(directory):
        for i, stmt in enumerate(split_statements(sql), 1):
            stmt = stmt.replace("{db}", quote_ident(database))
            ok, _, msg = engine.run(stmt)
            if not ok:
                failures.append((name, i, stmt, msg))
    return failures


def substitute_db(sql, database):
    return sql.replace("{db}", quote_ident(database)).replace("{dbname}", database)


# --- clickhouse-go's client-side binding, byte for byte (bind.go: bindQuoteState and friends) ---

def _escaped(q, pos):
    n = 0
    i = pos - 1
    while i >= 0 and q[i] == 0x5C:
        n += 1
        i -= 1
    return n % 2 == 1


class _State:
    def __init__(self):
        self.backtick = self.single = self.double = self.line = False
        self.block = 0

    def protected(self):
        return self.backtick or self.single or self.double or self.line or self.block > 0

    def ident_or_comment(self):
        return self.backtick or self.double or self.line or self.block > 0

    def update(self, q, pos):
        c, nxt = q[pos], (q[pos + 1] if pos + 1 < len(q) else None)
        if self.line:
            if c == 0x0A:
                self.line = False
        elif self.block > 0:
            if c == 0x2F and nxt == 0x2A:
                self.block += 1
                return pos + 1
            if c == 0x2A and nxt == 0x2F:
                self.block -= 1
                return pos + 1
        elif self.backtick or self.single or self.double:
            d = 0x60 if self.backtick else (0x27 if self.single else 0x22)
            if c == d and not _escaped(q, pos):
                if nxt == d:
                    return pos + 1
                self.backtick = self.single = self.double = False
        else:
            if _escaped(q, pos):
                return pos
            if c == 0x60:
                self.backtick = True
            elif c == 0x27:
                self.single = True
            elif c == 0x22:
                self.double = True
            elif c == 0x23:
                self.line = True
            elif c == 0x2D and nxt == 0x2D:
                self.line = True
                return pos + 1
            elif c == 0x2F and nxt == 0x2A:
                self.block += 1
                return pos + 1
        return pos


def _is_name(c):
    return c == 0x5F or 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _has_numeric(q):
    """bindParamsFormats: whether the query uses $N (and not ?) placeholders."""
    st, i, numeric, positional = _State(), 0, False, False
    while i < len(q):
        if not st.protected():
            if q[i] == 0x3F and (i == 0 or q[i - 1] != 0x5C):
                positional = True
            elif q[i] == 0x24 and i + 1 < len(q) and 0x30 <= q[i + 1] <= 0x39:
                numeric = True
        i = st.update(q, i) + 1
    if numeric and positional:
        raise ValueError("both $N and ? placeholders")
    return numeric


def bind(query, args):
    """Splices the recorded literals into query where clickhouse-go would: all-named arguments
    replace @name, otherwise $N or ? (outside quotes and comments)."""
    if not args:
        return query
    q = query.encode("utf-8")
    out = bytearray()
    st = _State()
    i, last = 0, 0
    if all(a.get("name") for a in args):
        lits = {b"@" + a["name"].encode(): a["literal"].encode() for a in args}
        while i < len(q):
            if not st.protected() and q[i] == 0x40 and i + 1 < len(q) and _is_name(q[i + 1]):
                j = i + 1
                while j < len(q) and _is_name(q[j]):
                    j += 1
                if q[i:j] not in lits:
                    raise ValueError("no argument for %s" % q[i:j].decode())
                out += q[last:i] + lits[q[i:j]]
                last = i = j
                continue
            i = st.update(q, i) + 1
        return (out + q[last:]).decode("utf-8")
    lits = [a["literal"].encode() for a in args]
    numeric = _has_numeric(q)
    n = 0
    while i < len(q):
        c = q[i]
        if numeric:
            if not st.protected() and c == 0x24 and i + 1 < len(q) and 0x30 <= q[i + 1] <= 0x39:
                j = i + 2
                while j < len(q) and 0x30 <= q[j] <= 0x39:
                    j += 1
                out += q[last:i] + lits[int(q[i + 1:j]) - 1]
                last = i = j
                continue
        elif c == 0x3F and not st.ident_or_comment():
            if i > 0 and q[i - 1] == 0x5C:
                out += q[last:i - 1] + b"?"
                last = i + 1
            elif not st.single:
                if n >= len(lits):
                    raise ValueError("more ? than arguments")
                out += q[last:i] + lits[n]
                n += 1
                last = i + 1
            i += 1
            continue
        i = st.update(q, i) + 1
    return (out + q[last:]).decode("utf-8")
