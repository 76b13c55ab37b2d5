#!/usr/bin/env bash
# pooltag heap on a tagged process (notmyfault, mimalloc backend): the
# glibc rows and pooltag's two pool rows, whose bytes in use are `used`'s
# totals, noted as living in mimalloc's segments; --json follows its schema.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault
start_nmf --leak nonpaged --duration 60
"$POOLTAG" heap "$NMF_PID" >"$T/tab" 2>"$T/err" || fail "heap: $(cat "$T/err")"
grep -q "^pooltag NonPaged .*(in mimalloc's segments)" "$T/tab" || fail "no NonPaged row: $(cat "$T/tab")"
grep -q "^pooltag Paged .*(in mimalloc's segments)" "$T/tab" || fail "no Paged row: $(cat "$T/tab")"
"$POOLTAG" heap --json "$NMF_PID" >"$T/h.json" || fail "heap --json"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" heap "$T/h.json" || fail "heap --json schema"
python3 - "$T/h.json" <<'PY' || fail "pool rows: $(cat "$T/h.json")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {h["kind"]: h for h in d["heaps"]}
for k in ("pooltag nonpaged pool", "pooltag paged pool"):
    r = rows[k]
    assert r["backend"] == "mimalloc", r
    assert r["busy_chunks"] == r["allocs"] - r["frees"], r
assert rows["pooltag nonpaged pool"]["busy_bytes"] > 0
assert "glibc main arena" in rows
PY
echo PASS
