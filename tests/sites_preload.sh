#!/usr/bin/env bash
# `pooltag sites` on programs run under the preload (`pooltag run`), where
# the segment carries a module table:
#   1. python3 (not ours; Debian's python3.11 has only .dynsym): the sites of
#      its tag 'pyth' are named python3.11!Symbol+0x.., TOTAL = used;
#   2. sites_fixture under the preload, snapshotted, then gone: the module
#      table alone (load bias + build-id) names alloc_big and its line.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_fixture
PRELOAD=$PT_BUILD/src/preload/libpooltag-preload.so
[ -e "$PRELOAD" ] || { echo "SKIP: $PRELOAD not built" >&2; exit 77; }

# 1. python3
PY=/usr/bin/python3
if [ -x "$PY" ]; then
    ready=$T/py.ready
    "$POOLTAG" run -- "$PY" -c '
import json, sys, time
keep = [bytearray(50000) for i in range(40)]
d = {str(i): [i] * 20 for i in range(20000)}
s = json.dumps(d)
open(sys.argv[1], "w").write("ready")
time.sleep(120)
' "$ready" &
    pp=$!
    track_pid "$pp"
    for _ in $(seq 300); do
        [ -s "$ready" ] && break
        kill -0 "$pp" 2>/dev/null || fail "python3 died"
        sleep 0.05
    done
    [ -s "$ready" ] || fail "python3 never became ready"
    timeout 60 "$POOLTAG" sites "$pp" pyth >"$T/py.txt" 2>"$T/py.err" ||
        fail "sites on python3: exit $? $(cat "$T/py.err")"
    head -20 "$T/py.txt"
    grep -q "Call sites of tag 'pyth' (python3.* - automatic tag of module " "$T/py.txt" ||
        fail "python title"
    n=$(grep -cE '  python3\.[0-9]+![A-Za-z_][A-Za-z0-9_.]*\+0x[0-9a-f]+' "$T/py.txt")
    [ "$n" -ge 3 ] || fail "only $n python3 sites have a symbol name"
    timeout 60 "$POOLTAG" sites --json "$pp" pyth >"$T/py.json" || fail "sites --json python3"
    json_ok "$T/py.json"
    timeout 60 "$POOLTAG" used --json "$pp" >"$T/pyu.json" || fail "used --json python3"
    totals_match "$T/py.json" "$T/pyu.json" pyth
    python3 - "$T/py.json" <<'PY' || fail "python JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["symbolized_with"].startswith("module table"), d["symbolized_with"]
mods = {s["module"] for s in d["sites"] if not s["other_sites"]}
assert all(m.startswith("python3") for m in mods), mods
# the 40 bytearrays of 50000 bytes are in there, at one or two sites
assert d["total"]["bytes"] >= 40 * 50000, d["total"]
PY
    kill "$pp"
    wait "$pp" 2>/dev/null
else
    echo "note: $PY missing, python part skipped"
fi

# 2. sites_fixture under the preload; its snapshot after it has exited.
#    Not in sanitizer builds: the fixture links the ASan runtime, which
#    must come before the preload in the library list.
if ldd "$FIXTURE" 2>/dev/null | grep -q 'libasan'; then
    echo "sites_preload: ok (fixture part skipped: sanitizer build)"
    exit 0
fi
L_BIG=$(line_of 'pt_alloc(PT_PAGED, 100 * 1024, TAG)')
L_SMALL=$(line_of 'pt_alloc(PT_PAGED, 100, TAG)')
L_NP=$(line_of 'pt_alloc(PT_NONPAGED, 64, TAG)')
FIX_WRAP="$POOLTAG run --"
start_fixture
timeout 30 "$POOLTAG" snap -o "$T/p.ptsnap" "$FIX_PID" >/dev/null || fail "snap"
timeout 30 "$POOLTAG" sites "$FIX_PID" Site >"$T/live.txt" || fail "sites live"
stop_fixture
timeout 30 "$POOLTAG" sites "$T/p.ptsnap" Site >"$T/snap.txt" || fail "sites on snapshot"
cat "$T/snap.txt"
check_row "$T/snap.txt" alloc_big 10 0 10 1024000 P "$L_BIG"
check_row "$T/snap.txt" alloc_small 1000 250 750 75000 P "$L_SMALL"
check_row "$T/snap.txt" alloc_np 4 0 4 256 NP "$L_NP"
first_site "$T/snap.txt" | grep -q '!alloc_big+' || fail "alloc_big first"
! grep -q 'not symbolized' "$T/snap.txt" || fail "module table not used"
diff <(table_part "$T/live.txt") <(table_part "$T/snap.txt") || fail "live and snapshot differ"
timeout 30 "$POOLTAG" sites --json "$T/p.ptsnap" Site >"$T/snap.json" || fail "--json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["symbolized_with"]=="module table", d["symbolized_with"]' \
    "$T/snap.json" || fail "symbolized_with"
echo "sites_preload: ok"
