#!/usr/bin/env python3
"""json_check.py DOC NAME [FILE] — check a verb's JSON output (FILE or
stdin) against the schema block NAME of DOC (docs/json.md); NAME[] checks
JSON Lines (one document per line, each against NAME).

A schema block is a fenced block opened by ```schema NAME and written in
JSON, where a value is a type:
  "int" (an integer), "uint" (an integer >= 0), "number" (int or float),
  "string", "bool", "tag" (a tag's text form), "hex" (an address as a
  string "0x..."), "any"; a type ending in "?" may also be null;
  "$NAME" the shape of block NAME (also "$NAME?");
  {"key": TYPE, ...} an object with exactly these members; a key ending
  in "?" is optional; the key "*" stands for any other member name;
  [TYPE] an array whose elements all have TYPE;
  "a|b|c" (at least one "|") one of these strings.
A value that is not valid JSON, a missing or unknown member, or a value of
the wrong type is reported with its path; exit status 1.  Usage errors and
a schema that does not exist: exit status 2.
"""
import json
import re
import sys


def load_schemas(doc):
    text = open(doc, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"^```schema ([\w$.-]+)\n(.*?)^```", text, re.M | re.S):
        name, body = m.group(1), m.group(2)
        try:
            out[name] = json.loads(body)
        except ValueError as e:
            sys.exit("json_check: schema %s in %s is not JSON: %s" % (name, doc, e))
    return out


class Bad(Exception):
    pass


def check(schemas, t, v, path):
    if isinstance(t, str):
        nullable = t.endswith("?")
        if nullable:
            t = t[:-1]
        if v is None:
            if nullable or t == "any":
                return
            raise Bad("%s: null where %s is required" % (path, t))
        if t.startswith("$"):
            if t[1:] not in schemas:
                raise Bad("%s: schema %s is not defined" % (path, t))
            return check(schemas, schemas[t[1:]], v, path)
        if "|" in t:
            if v not in t.split("|"):
                raise Bad("%s: %r is not one of %s" % (path, v, t))
            return
        ok = {
            "any": lambda x: True,
            "int": lambda x: isinstance(x, int) and not isinstance(x, bool),
            "uint": lambda x: isinstance(x, int) and not isinstance(x, bool) and x >= 0,
            "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
            "string": lambda x: isinstance(x, str),
            "bool": lambda x: isinstance(x, bool),
            "tag": lambda x: isinstance(x, str) and 1 <= len(x) <= 32,
            "hex": lambda x: isinstance(x, str) and re.fullmatch(r"0x[0-9a-f]+", x) is not None,
        }.get(t)
        if ok is None:
            raise Bad("%s: unknown type %r in the schema" % (path, t))
        if not ok(v):
            raise Bad("%s: %r is not %s" % (path, v, t))
        return
    if isinstance(t, list):
        if not isinstance(v, list):
            raise Bad("%s: %r is not an array" % (path, type(v).__name__))
        for i, x in enumerate(v):
            check(schemas, t[0], x, "%s[%d]" % (path, i))
        return
    if isinstance(t, dict):
        if not isinstance(v, dict):
            raise Bad("%s: %s is not an object" % (path, type(v).__name__))
        keys = {}
        for k, kt in t.items():
            opt = k.endswith("?") and k != "*"
            keys[k[:-1] if opt else k] = (kt, opt)
        for k, (kt, opt) in keys.items():
            if k == "*":
                continue
            if k in v:
                check(schemas, kt, v[k], "%s.%s" % (path, k))
            elif not opt:
                raise Bad("%s: member %r is missing" % (path, k))
        for k in v:
            if k not in keys:
                if "*" in keys:
                    check(schemas, keys["*"][0], v[k], "%s.%s" % (path, k))
                else:
                    raise Bad("%s: member %r is not in the schema" % (path, k))
        return
    raise Bad("%s: bad schema node %r" % (path, t))


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.split("\n")[0], file=sys.stderr)
        sys.exit(2)
    schemas = load_schemas(sys.argv[1])
    name = sys.argv[2]
    lines = name.endswith("[]")
    if lines:
        name = name[:-2]
    if name not in schemas:
        print("json_check: no schema %r in %s" % (name, sys.argv[1]), file=sys.stderr)
        sys.exit(2)
    src = open(sys.argv[3], encoding="utf-8") if len(sys.argv) == 4 else sys.stdin
    text = src.read()
    try:
        # Every verb writes one JSON document; NAME[] checks a stream of
        # them, one per line (JSON Lines).
        docs = ([json.loads(x) for x in text.splitlines() if x.strip()]
                if lines else [json.loads(text)])
    except ValueError as e:
        print("json_check %s: not valid JSON: %s" % (name, e), file=sys.stderr)
        sys.exit(1)
    try:
        for d in docs:
            check(schemas, schemas[name], d, name)
    except Bad as e:
        print("json_check: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
