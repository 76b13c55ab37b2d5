#!/usr/bin/env bash
# pooltag heap on heapfix (tests/fixtures/heapfix.c), live (stopped and
# --no-stop), from a gcore and from a kernel core: the figures equal mallinfo2() taken inside
# the process (tcache moved from busy to free: heap_check.py), the tcache
# holds what the fixture put there, --stat counts every size of the
# fixture's block list exactly, --size lists exactly its addresses, the
# block whose first word points into heapfix_vtable is named so.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/heap_lib.sh"

start_heapfix
R=$T/hf.out
check_one() { # LABEL SOURCE [OPTS]
    local label=$1 src=$2
    shift 2
    "$POOLTAG" heap --json "$@" "$src" >"$T/s.json" 2>"$T/err" || fail "$label: heap: $(cat "$T/err")"
    check_mallinfo "$T/s.json" "$R" "$label"
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" heap "$T/s.json" || fail "$label: heap schema"
    "$POOLTAG" heap --stat --top 0 --json "$@" "$src" >"$T/st.json" 2>"$T/err" ||
        fail "$label: heap --stat: $(cat "$T/err")"
    /usr/bin/python3 "$HEAP_CHECK" stat "$T/st.json" "$R" || fail "$label: --stat"
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" heap_stat "$T/st.json" || fail "$label: --stat schema"
    for u in 24 56 200 3000 152; do
        "$POOLTAG" heap --size "$u" --max 0 --json "$@" "$src" >"$T/sz.json" 2>"$T/err" ||
            fail "$label: heap --size $u: $(cat "$T/err")"
        /usr/bin/python3 "$HEAP_CHECK" size "$T/sz.json" "$R" "$u" || fail "$label: --size $u"
        python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" heap_size "$T/sz.json" || fail "$label: --size schema"
    done
    "$POOLTAG" heap --size 152 "$@" "$src" >"$T/obj" 2>"$T/err" || fail "$label: --size 152"
    grep -q 'heapfix!heapfix_vtable+16$' "$T/obj" || fail "$label: the first word is not named: $(cat "$T/obj")"
    "$POOLTAG" heap --size 200 --max 2 --json "$@" "$src" >"$T/m.json" || fail "$label: --max"
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (len(d["blocks"]) == 2 and d["truncated"]))' "$T/m.json" ||
        fail "$label: --max 2 did not stop at 2 blocks"
}
check_one live "$HF_PID"
grep -q 'found_by' "$T/s.json" && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["found_by"] != "symbol" or d["stopped_ns"] <= 0)' "$T/s.json" ||
    fail "live: main_arena not found by symbol, or no pause reported: $(head -c 300 "$T/s.json")"
check_one no-stop "$HF_PID" --no-stop
grep -q stopped_ns "$T/s.json" && fail "--no-stop reported a pause"
take_gcore "$HF_PID" "$T/core"
check_one core "$T/core"
# the table: one row per arena (main + 2 threads), the mmapped row, exit 0
"$POOLTAG" heap "$T/core" >"$T/tab" || fail "heap core: exit $?"
[ "$(grep -c '^main arena ' "$T/tab")" = 1 ] && [ "$(grep -c '^thread arena ' "$T/tab")" = 2 ] &&
    grep -q '^mmapped ' "$T/tab" || fail "heap core table: $(cat "$T/tab")"
# a kernel core (core_pattern "core" or "core.PID" in the working
# directory, ulimit -c unlimited; the default coredump_filter dumps the
# anonymous private memory that holds the heap)
kill -SEGV "$HF_PID"
wait "$HF_PID" 2>/dev/null || true
kc=
for f in "$T/core.$HF_PID" "$T/core"; do [ -s "$f" ] && kc=$f && break; done
if [ -n "$kc" ]; then
    check_one kernel "$kc"
else
    echo "note: no kernel core written (core_pattern $(cat /proc/sys/kernel/core_pattern)): kernel core not checked" >&2
fi
echo PASS
