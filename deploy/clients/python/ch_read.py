"""Reads CityPulse's warehouse with clickhouse-driver, the Python ClickHouse client analysts use
(native protocol, as from a notebook), and prints what it read: the CityPulse client tests'
reader (internal/engines/clientstest), which compares it with what our Go code reads.

    var/clients/venv/bin/python deploy/clients/python/ch_read.py --host H --port P --database D \
        [--user U] < queries.json

stdin is a JSON array of SQL queries. stdout gets one JSON document: the driver's version, the
server's version and time zone, and per query its columns ([name, type] as the driver reports
them) and rows. Values are written in one canonical form the Go side reproduces: Date as
YYYY-MM-DD, DateTime as UTC YYYY-MM-DDTHH:MM:SSZ (clickhouse-driver returns a DateTime without a
zone of its own as a naive value in the server's time zone, so it is localised to that zone
first), integers and floats as JSON numbers, arrays as JSON arrays, NULL as null. The password,
if any, comes from $CLICKHOUSE_PASSWORD.
"""

import argparse
import datetime
import decimal
import json
import os
import sys
import uuid

import clickhouse_driver
import pytz
from clickhouse_driver import Client


def canonical(v, server_tz):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = server_tz.localize(v)
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [canonical(x, server_tz) for x in v]
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    raise TypeError("no canonical form for %r (%s)" % (v, type(v).__name__))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--database", required=True)
    p.add_argument("--user", default="default")
    a = p.parse_args()
    queries = json.load(sys.stdin)

    client = Client(host=a.host, port=a.port, database=a.database, user=a.user,
                    password=os.environ.get("CLICKHOUSE_PASSWORD", ""))
    try:
        version = client.execute("SELECT version()")[0][0]
        info = client.connection.server_info
        tz = pytz.timezone(info.timezone)
        results = []
        for q in queries:
            rows, columns = client.execute(q, with_column_types=True)
            results.append({
                "columns": [[name, typ] for name, typ in columns],
                "rows": [[canonical(v, tz) for v in row] for row in rows],
            })
    finally:
        client.disconnect()
    json.dump({"driver": "clickhouse-driver", "driver_version": ".".join(map(str, clickhouse_driver.VERSION)),
               "server_version": version, "server_timezone": info.timezone, "results": results},
              sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
