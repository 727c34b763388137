"""Sends Segment-spec calls with Segment's own Python library (segment-analytics-python),
configured with nothing but the collector's URL and a write key: the CityPulse client tests'
driver (internal/engines/clientstest).

    var/clients/venv/bin/python deploy/clients/python/segment_send.py URL WRITE_KEY [--gzip] < calls.json

stdin is a JSON array of calls in the Segment HTTP API's shape (type, messageId, userId,
anonymousId, previousId, event, name, category, properties, traits, context, timestamp); each
becomes the library call of that type. --gzip sets the library's own gzip option. stdout gets one
JSON line: the library's name and version and the errors its on_error hook reported (it has no
success hook). The exit status is 0 only when there were none.
"""

import json
import logging
import sys
from datetime import datetime

import segment.analytics as analytics


def main(argv):
    args = [a for a in argv[1:] if a != "--gzip"]
    if len(args) != 2:
        print("usage: segment_send.py URL WRITE_KEY [--gzip] < calls.json", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    errors = []

    # The whole configuration a service needs (docs/tracking.md).
    analytics.write_key = args[1]
    analytics.host = args[0]
    analytics.gzip = "--gzip" in argv
    analytics.on_error = lambda err, batch: errors.append("%s (%d messages)" % (err, len(batch)))

    calls = json.load(sys.stdin)
    for c in calls:
        send(c)
    analytics.shutdown()  # flush, then wait until the consumer has sent everything

    print(json.dumps({"library": "analytics-python", "version": analytics.__version__,
                      "enqueued": len(calls), "errors": errors}))
    return 0 if not errors else 1


def send(c):
    common = {
        "context": c.get("context"),
        "timestamp": datetime.fromisoformat(c["timestamp"]) if "timestamp" in c else None,
        "message_id": c.get("messageId"),
    }
    who = {"user_id": c.get("userId"), "anonymous_id": c.get("anonymousId")}
    kind = c["type"]
    if kind == "track":
        analytics.track(event=c["event"], properties=c.get("properties"), **who, **common)
    elif kind == "page":
        analytics.page(category=c.get("category"), name=c.get("name"), properties=c.get("properties"), **who, **common)
    elif kind == "screen":
        analytics.screen(category=c.get("category"), name=c.get("name"), properties=c.get("properties"), **who, **common)
    elif kind == "identify":
        analytics.identify(traits=c.get("traits"), **who, **common)
    elif kind == "alias":
        analytics.alias(previous_id=c["previousId"], user_id=c["userId"], **common)
    else:
        raise ValueError("unknown call type %r" % kind)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
