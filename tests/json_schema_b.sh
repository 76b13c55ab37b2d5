#!/usr/bin/env bash
# json_schema_b — the JSON of find, imports, trend and serve (issue 10,
# part B) against the schema blocks of docs/json.md (tests/json_check.py):
# each verb run for real in every mode that writes JSON — find on the
# fixtures (files) and on a running fx_host (PID); imports, imports
# --exports on files and on the running fx_host; trend on a generated log
# (whole, --tag, --pid) and on one whose names hold control characters and
# bytes that are not UTF-8; serve's /api/v1/processes with notmyfault
# processes (one with a hostile command name).  `pooltag log` writes no
# JSON (its summary is one line on stderr).
. "$(dirname "$0")/serve_lib.sh"
. "$(dirname "$0")/lm_lib.sh"
need_fixtures
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

DOC=$PT_SRC/docs/json.md
# check NAME FILE: FILE is valid JSON of schema NAME.
check() {
    python3 "$PT_SRC/tests/json_check.py" "$DOC" "$1" "$2" ||
        fail "$1 JSON does not follow docs/json.md: $(head -c 400 "$2")"
}
# run NAME OUT CMD...: CMD exits 0 (or 1, "nothing found") and its output
# follows schema NAME.
run() {
    local name=$1 out=$2 rc=0
    shift 2
    timeout 60 "$@" >"$out" 2>"$T/run.err" || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "'$*' exited $rc: $(cat "$T/run.err")"
    check "$name" "$out"
}

# The checker itself rejects a member too many and one missing.
echo '{"kind": "live", "spec": "1"}' >"$T/bad.json"
python3 "$PT_SRC/tests/json_check.py" "$DOC" source "$T/bad.json" 2>/dev/null &&
    fail "json_check accepts an incomplete source"

# --- find and imports: files, then a process --------------------------
run find "$T/f1.json" "$POOLTAG" find --json FxTw "$F"
run find "$T/f2.json" "$POOLTAG" find --json --code-only --max 1 FxTw "$F"
run find "$T/f3.json" "$POOLTAG" find --json --hex 0x7a7a7a7a "$F/libfx_tagtwo.so"
run imports "$T/i1.json" "$POOLTAG" imports --json api_query "$F"
run imports "$T/i2.json" "$POOLTAG" imports --exports --json 'api_*' "$F"
run imports "$T/i3.json" "$POOLTAG" imports --json nosuchsymbol "$F"
start_host
run find "$T/f4.json" "$POOLTAG" find --json FxTw "$HOST_PID"
run imports "$T/i4.json" "$POOLTAG" imports --json 'api_*' "$HOST_PID"
run imports "$T/i5.json" "$POOLTAG" imports --exports --json 'api_*' "$HOST_PID"
# Both kinds of hit and of result were seen (the schema's optional members
# were really checked).
python3 - "$T" <<'PY' || fail "the runs above did not cover every shape"
import json, sys
t = sys.argv[1]
f1, f4 = (json.load(open(t + n)) for n in ("/f1.json", "/f4.json"))
assert f1["process"] is None and f4["process"]["pid"] > 0, (f1["process"], f4["process"])
assert f1["hits"] and f4["hits"], (f1["hits"], f4["hits"])
assert any("module_address" in h for h in f4["hits"]), f4["hits"]
i4, i5 = (json.load(open(t + n)) for n in ("/i4.json", "/i5.json"))
assert i4["results"] and all("status" in r for r in i4["results"]), i4
assert i5["results"] and all("address" in r for r in i5["results"]), i5
PY

# --- trend -----------------------------------------------------------
python3 "$PT_SRC/tests/trend_gen.py" "$T/g.db" --interval 5 >/dev/null || fail "trend_gen"
run trend "$T/t1.json" "$POOLTAG" trend --json "$T/g.db"
run trend "$T/t2.json" "$POOLTAG" trend --json --tag 'L*' "$T/g.db"
run trend "$T/t3.json" "$POOLTAG" trend --json --pid 1003 "$T/g.db"
cp "$T/g.db" "$T/esc.db"
python3 - "$T/esc.db" <<'PY' || fail "cannot edit esc.db"
import sqlite3, sys
d = sqlite3.connect(sys.argv[1])
d.execute("UPDATE process SET comm = ?, exe = '', end_reason = ?, end_ns = 1 WHERE pid = 1004",
          (b"ev\x1b]0;x\x07il\n", b"gone\x1b[2J\xff"))
d.execute("UPDATE meta SET value = '' WHERE key = 'host'")
d.commit()
PY
run trend "$T/t4.json" "$POOLTAG" trend --json "$T/esc.db"
python3 - "$T/t4.json" <<'PY' || fail "trend: unknown text is not null, or names not escaped"
import json, sys
d = json.load(open(sys.argv[1]))
p = [p for p in d["processes"] if p["pid"] == 1004][0]
assert d["log"]["host"] is None and p["exe"] is None, (d["log"], p)
assert p["comm"] == "ev\\x1b]0;x\\x07il\\x0a" and p["end_reason"] == "gone\\x1b[2J\\xff", p
assert any(s["total"] and s["tag"] is None for s in p["series"]), p["series"]
PY

# --- serve -----------------------------------------------------------
start_nmf --leak paged --rate 64K
weird=$T/$'s"\\\t\xff'
cp "$NOTMYFAULT" "$weird"
"$weird" --quiet &
track_pid $!
wait_tagged $!
start_serve --listen 127.0.0.1:0 --top 2
http GET "${URL}api/v1/processes" >"$T/s1.json" || fail "GET /api/v1/processes"
check serve "$T/s1.json"
http GET "${URL}api/v1/processes" >"$T/s2.json" || fail "GET /api/v1/processes (2)"
check serve "$T/s2.json"
python3 - "$T/s2.json" "$NMF_PID" <<'PY' || fail "serve JSON: $(head -c 600 "$T/s2.json")"
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["pid"]: x for x in d["processes"]}[int(sys.argv[2])]
rows = p["rows"]
assert rows[-1]["other"] and rows[-1]["tag"] == "other" and len(rows) <= 2 * 2 + 1, rows
for r in rows:
    for pool in ("paged", "nonpaged"):
        c = r[pool]
        if not r["other"]:   # a member's gauges are its own counters' differences
            assert c["blocks"] == c["allocs"] - c["frees"], r
            assert c["bytes"] == c["bytes_alloc"] - c["bytes_freed"], r
PY
echo "json_schema_b: ok"
