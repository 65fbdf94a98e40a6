#!/usr/bin/env python3
"""Validates an EPCIS 2.0 JSON-LD document against GS1's JSON Schema.

usage: validate_epcis.py SCHEMA DOCUMENT EXPECTED_TYPES...
Exit 0 when valid and every expected event type occurs, with each event
carrying its ledger entry (sl:entry); 1 otherwise (reason on stderr).
"""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    doc = json.load(open(sys.argv[2]))
    cls = jsonschema.validators.validator_for(schema)
    errors = list(cls(schema).iter_errors(doc))
    for e in errors[:5]:
        print("schema:", list(e.absolute_path), e.message[:300], file=sys.stderr)
    if errors:
        return 1
    events = doc["epcisBody"]["eventList"]
    types = {e["type"] for e in events}
    for want in sys.argv[3:]:
        if want not in types:
            print("missing event type", want, "in", sorted(types), file=sys.stderr)
            return 1
    for e in events:
        entry = e.get("sl:entry", {})
        if not entry.get("sl:origin") or "sl:leafHash" not in entry:
            print("event without sl:entry:", e, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
