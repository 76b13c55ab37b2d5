#!/usr/bin/env bash
# An unmodified python3 started by `pooltag run` is tagged and can be
# inspected live by PID: `used` shows tag rows with bytes in use (the
# interpreter's own tag, derived from its file name, holds what it
# allocated), `vm`, `snap` and `mon -n` read it; --backend, --tags and
# --paged-max reach the program.
. "$(dirname "$0")/run_lib.sh"
need_preload
need_python

# start_py NAME OPTIONS... -- : start python3 under run with OPTIONS; it
# allocates 20000 blocks of 1000 bytes (about 20 MB), writes $T/NAME.ready
# and sleeps (30 s at most).  Sets PYPID.
start_py() {
    local name=$1
    shift
    "$POOLTAG" run "$@" -- "$PY" -c '
import sys, time
keep = [bytes(1000) for _ in range(20000)]
extra = []
try:
    for i in range(int(sys.argv[2])):
        extra.append(bytearray(1 << 20))
    print("no MemoryError", flush=True)
except MemoryError:
    print("MemoryError after", i, "MiB", flush=True)
open(sys.argv[1], "w").write("ready")
time.sleep(30)' "$T/$name.ready" "${EXTRA_MB:-0}" >"$T/$name.out" &
    PYPID=$!
    track_pid "$PYPID"
    wait_file "$T/$name.ready"
    is_tagged "$PYPID" || fail "$name: python3 ($PYPID) has no pooltag segment"
}

# rows_json SOURCE: "TAG PAGED_USED NONPAGED_USED" per tag, from used --json.
rows_json() {
    timeout 20 "$POOLTAG" used --json "$1" >"$T/u.json" || fail "used --json $1: exit $?"
    "$PY" -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tags"]:
    print(t["tag"].replace(" ", "_"), t["paged"]["bytes"], t["nonpaged"]["bytes"])
' "$T/u.json"
}
used_of() { awk -v t="$2" '$1 == t { print $2; f = 1 } END { if (!f) print -1 }' "$1"; }

# Default settings: the interpreter's derived tag holds its ~20 MB.
start_py plain
pid=$PYPID
timeout 20 "$POOLTAG" used "$pid" >"$T/used" || fail "used $pid: exit $?"
cat "$T/used"
grep -q "^   process $pid (python3), live reading at " "$T/used" || fail "used: source line"
rows_json "$pid" >"$T/rows"
awk '$2 > 0 || $3 > 0 { n++ } END { exit !(n >= 1) }' "$T/rows" ||
    fail "no tag with bytes in use: $(cat "$T/rows")"
py=$(used_of "$T/rows" pyth)
[ "$py" -ge 20000000 ] || fail "tag pyth (python3.11) holds $py bytes, expected >= 20000000"
timeout 20 "$POOLTAG" vm --json "$pid" >"$T/vm.json" || fail "vm: exit $?"
"$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"]["backend"] == "mimalloc", d["source"]
assert d["pools"]["paged"]["usage_bytes"] >= 20000000, d["pools"]["paged"]
' "$T/vm.json" || fail "vm --json: $(head -c 400 "$T/vm.json")"
timeout 20 "$POOLTAG" snap -o "$T/py.ptsnap" "$pid" >/dev/null || fail "snap: exit $?"
rows_json "$T/py.ptsnap" >"$T/srows"
[ "$(used_of "$T/srows" pyth)" -ge 20000000 ] || fail "snapshot: pyth $(used_of "$T/srows" pyth)"
timeout 20 "$POOLTAG" mon -n "$T/mon.txt" "$pid" || fail "mon -n: exit $?"
grep -q '^ *pyth ' "$T/mon.txt" || fail "mon -n has no pyth row: $(head -20 "$T/mon.txt")"
kill "$pid"; wait "$pid" 2>/dev/null

# --backend=libc reaches the program.
start_py libc --backend=libc
timeout 20 "$POOLTAG" vm --json "$PYPID" >"$T/vm.json" || fail "vm (libc): exit $?"
grep -q '"backend": "libc"' "$T/vm.json" || fail "--backend=libc: $(head -c 300 "$T/vm.json")"
kill "$PYPID"; wait "$PYPID" 2>/dev/null

# --tags: a rule on the file name, and one on the full path (the glob has a
# '/'), win over the derived tag; the first matching rule wins.
printf '# test rules\npython3* PyRu\n*python3* Nope\n' >"$T/rules"
start_py rules --tags "$T/rules"
rows_json "$PYPID" >"$T/rows"
[ "$(used_of "$T/rows" PyRu)" -ge 20000000 ] || fail "rule tag PyRu: $(cat "$T/rows")"
[ "$(used_of "$T/rows" pyth)" = -1 ] || fail "derived tag pyth despite the rule"
[ "$(used_of "$T/rows" Nope)" = -1 ] || fail "a later rule won over the first"
kill "$PYPID"; wait "$PYPID" 2>/dev/null
exe=$(realpath "$PY")
printf '%s Path\n' "${exe%/*}/*" >"$T/rules"
start_py path --tags "$T/rules"
rows_json "$PYPID" >"$T/rows"
[ "$(used_of "$T/rows" Path)" -ge 20000000 ] || fail "full-path rule: $(cat "$T/rows")"
kill "$PYPID"; wait "$PYPID" 2>/dev/null

# --paged-max: allocations past it fail (MemoryError in Python) and are
# counted; vm shows the maximum and the failures.
EXTRA_MB=200 start_py limit --paged-max 64M
grep -q '^MemoryError after' "$T/limit.out" || fail "--paged-max 64M: $(cat "$T/limit.out")"
timeout 20 "$POOLTAG" vm --json "$PYPID" >"$T/vm.json" || fail "vm (limit): exit $?"
"$PY" -c '
import json, sys
p = json.load(open(sys.argv[1]))["pools"]["paged"]
assert p["limit_bytes"] == 64 << 20 and p["failures"] >= 1, p
assert p["usage_bytes"] <= 64 << 20, p
' "$T/vm.json" || fail "vm after --paged-max: $(head -c 600 "$T/vm.json")"
kill "$PYPID"; wait "$PYPID" 2>/dev/null
echo "run tagged tests passed"
