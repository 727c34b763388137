"""Runs golden queries on chDB for the golden test (internal/engines/chdbtest), which runs the same
queries on ClickHouse 18.16 through clickhouse-go and compares.

    python golden.py REQUEST.json   # prints the response as JSON on stdout

Request: {"database": NAME, "migrations": DIR, "setup": [SQL…], "queries": [{"name": …, "sql": …}]}.
The migrations are applied to NAME ({db} substituted), then the setup statements (also with {db}),
then each query. Response: {"version": …, "migration_failures": […], "setup_failures": […],
"results": [{"name", "columns": [{"name", "type"}], "rows": [[…]], "error"}]}, values as ClickHouse's
JSONCompact format prints them with 64-bit numbers unquoted."""

import json
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import chsql  # noqa: E402

def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        req = json.load(fh)
    db = req["database"]
    engine = chsql.Engine()
    out = {"version": engine.version, "migration_failures": [], "setup_failures": [], "results": []}
    for name, i, sql, msg in chsql.apply_migrations(engine, req["migrations"], db):
        out["migration_failures"].append({"migration": name, "statement": i, "error": msg.splitlines()[0]})
    engine.run("USE " + chsql.quote_ident(db))
    engine.run("SET output_format_json_quote_64bit_integers = 0")
    engine.run("SET output_format_json_quote_64bit_floats = 0")
    engine.run("SET output_format_json_quote_denormals = 1")  # inf, -inf, nan as strings
    for sql in req.get("setup", []):
        ok, _, msg = engine.run(chsql.substitute_db(sql, db))
        if not ok:
            out["setup_failures"].append({"sql": sql, "error": msg.splitlines()[0]})
    for q in req["queries"]:
        ok, _, text = engine.run(chsql.substitute_db(q["sql"], db), "JSONCompact")
        r = {"name": q["name"], "columns": [], "rows": [], "error": ""}
        if ok:
            doc = json.loads(text)
            r["columns"] = [{"name": m["name"], "type": m["type"]} for m in doc["meta"]]
            r["rows"] = doc["data"]
        else:
            r["error"] = text.splitlines()[0]
        out["results"].append(r)
    engine.close()
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
