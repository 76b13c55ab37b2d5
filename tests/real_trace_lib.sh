# shellcheck shell=bash
# real_trace_lib.sh — sourced by tests/real_trace_*.sh (not a test): call
# stacks (`pooltag hit`, `pooltag verify`, issue 11) of real programs that
# no one here wrote.  On top of real_lib.sh (background processes tracked
# and killed by PID, ok/bad/skip/finish, free_port, redis_up).
#
# The stacks are read from the verbs' --json output (docs/json.md): every
# object with a "frames" array is a stack (a hit record, a tracked block,
# a log record), and a frame has module, symbol, offset, file, line.
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# need_trace: what the tests read with (hit and verify are part of the
# command: a failure of theirs fails the test, it is never a skip).
need_trace() {
    [ -x "$POOLTAG" ] || skip "$POOLTAG not built"
    [ -n "$PY" ] || skip "python3 is needed to read the JSON output"
}

# stacks_tsv JSON: one line per stack found in the JSON file:
#   PATH<TAB>TAG<TAB>OP<TAB>ADDR<TAB>SIZE<TAB>FRAME1|FRAME2|...
# PATH is where the object sits in the document (e.g. records.3), TAG, OP,
# ADDR, SIZE its fields of those names ("-" when absent), each FRAME
# "MODULE_BASENAME!SYMBOL" ("MODULE_BASENAME!?" without a symbol, "?" with
# neither).  Exit status 1 if the file is not JSON.
stacks_tsv() {
    "$PY" - "$1" <<'EOF'
import json, os, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception as e:
    sys.stderr.write("not JSON: %s\n" % e)
    sys.exit(1)
def frame(f):
    if not isinstance(f, dict):
        return "?"
    m = f.get("module")
    s = f.get("symbol")
    if not m:
        return "?"
    return "%s!%s" % (os.path.basename(m), s if s else "?")
def walk(o, path):
    if isinstance(o, dict):
        fr = o.get("frames")
        if isinstance(fr, list):
            def g(k):
                v = o.get(k)
                return "-" if v is None else str(v)
            print("\t".join([path, g("tag"), g("op"), g("addr"), g("size"),
                             "|".join(frame(f) for f in fr)]))
        for k, v in o.items():
            if k != "frames":
                walk(v, (path + "." if path else "") + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, "%s.%d" % (path, i))
walk(doc, "")
EOF
}

# json_get JSON KEY: the first value of KEY (depth first) in the JSON file,
# or nothing.
json_get() {
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    doc = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(1)
def find(o):
    if isinstance(o, dict):
        if sys.argv[2] in o and not isinstance(o[sys.argv[2]], (dict, list)):
            return o[sys.argv[2]]
        for v in o.values():
            r = find(v)
            if r is not None:
                return r
    elif isinstance(o, list):
        for v in o:
            r = find(v)
            if r is not None:
                return r
    return None
r = find(doc)
if r is not None:
    print(r)
EOF
}

# module_tag USEDFILE MODULE_REGEX: the tag that `pooltag used` shows as the
# automatic tag of the module whose path matches MODULE_REGEX.
module_tag() {
    awk -v re="$2" '/automatic tag of module/ { p = $NF; if (p ~ re) { print $1; exit } }' "$1"
}
