#!/usr/bin/env bash
# pooltag hit --show on the fixture segment (file and live): the records
# the ring holds, newest last, with the overwritten and torn ones counted,
# each stack symbolized with this fixture's functions and lines; --tag and
# --address select; --json has the same records; --follow prints new
# records, says how many the ring overwrote before it read them, and stops
# by itself when the process exits.
. "$(dirname "$0")/hv_lib.sh"
"$HV" --write "$T/seg" || fail "cannot write the fixture"
"$POOLTAG" hit --show "$T/seg" >"$T/show" || fail "hit --show exit $?"
# Indices 4..18: 15 records (0..3 overwritten, 19 being written).
n=$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' "$T/show")
[ "$n" = 15 ] || fail "expected 15 records, got $n: $(cat "$T/show")"
grep -q '^4 older records were overwritten' "$T/show" || fail "overwritten records not said"
grep -q '^1 record skipped: being written while read' "$T/show" || fail "torn record not said"
# The first record is index 4: the alloc of block 2 (Cach, 0x10200, 102 bytes).
first=$(grep -m1 -E '^[0-9]{4}-' "$T/show")
[[ $first == *"alloc 0x000000010200        102  Cach"* ]] || fail "first record: $first"
last=$(grep -E '^[0-9]{4}-' "$T/show" | tail -1)
[[ $last == *"alloc 0x000000010900        109  Leak"* ]] || fail "last record: $last"
grep -q "hv_segment!fixture_leak_step+0x[0-9a-f]*  .*hv_segment.c:$LINE_LEAK\$" "$T/show" ||
    fail "no frame fixture_leak_step at line $LINE_LEAK: $(sed -n 4,9p "$T/show")"
grep -q "hv_segment!fixture_outer+0x[0-9a-f]*  .*hv_segment.c:$LINE_OUTER\$" "$T/show" ||
    fail "no frame fixture_outer at line $LINE_OUTER"
grep -q "hv_segment!fixture_cache_fill+0x[0-9a-f]*  .*hv_segment.c:$LINE_CACHE\$" "$T/show" ||
    fail "no frame fixture_cache_fill at line $LINE_CACHE"

# --tag: blocks 2, 5, 8 are Cach: indices 4, 5, 10, 11, 16, 17.
"$POOLTAG" hit --show "$T/seg" --tag Cach >"$T/cach" || fail "--tag exit $?"
[ "$(grep -cE '^[0-9]{4}-' "$T/cach")" = 6 ] || fail "--tag Cach: $(grep -E '^[0-9]{4}-' "$T/cach")"
[ "$(grep -E '^[0-9]{4}-' "$T/cach" | grep -vc ' Cach')" = 0 ] || fail "--tag Cach shows other tags"
# --address inside block 5 (0x10500, 105 bytes): its alloc and its free.
"$POOLTAG" hit --show "$T/seg" --address 0x10568 >"$T/addr" || fail "--address exit $?"
[ "$(grep -E '^[0-9]{4}-' "$T/addr" | awk '{print $5, $6}' | tr '\n' ' ')" = "alloc 0x000000010500 free 0x000000010500 " ] ||
    fail "--address: $(grep -E '^[0-9]{4}-' "$T/addr")"
# Just past the block: nothing.
"$POOLTAG" hit --show "$T/seg" --address 0x10569 >"$T/none" || fail "--address past exit $?"
grep -q '^no records match' "$T/none" || fail "--address past the block: $(cat "$T/none")"

# JSON: the same 15 records, in order, each with its frames.
"$POOLTAG" hit --show "$T/seg" --json >"$T/json" || fail "--json exit $?"
json_ok "$T/json"
python3 - "$T/json" "$LINE_LEAK" <<'PY' || fail "hit --show --json content"
import json, sys
d = json.load(open(sys.argv[1]))
idx = [r["index"] for r in d["records"]]
assert idx == list(range(4, 19)), idx
assert d["ring"] == {"capacity": 64, "size": 16, "head": 20, "first": 4,
                     "overwritten": 4, "torn": 1}, d["ring"]
r = d["records"][0]
assert (r["op"], r["addr"], r["size"], r["tag"], r["tid"]) == ("alloc", "0x10200", 102, "Cach", 4242), r
f = r["frames"][0]
assert f["symbol"] == "fixture_leak_step" and f["line"] == int(sys.argv[2]), f
assert d["settings"]["patterns"] == ["Leak"], d["settings"]
PY

# Live: the same records, and --follow.
start_hv
"$POOLTAG" hit --show "$HV_PID" >"$T/live" || fail "live --show exit $?"
[ "$(grep -cE '^[0-9]{4}-' "$T/live")" = 15 ] || fail "live --show: $(head "$T/live")"
"$POOLTAG" hit --show "$HV_PID" --follow >"$T/follow" 2>"$T/follow.err" &
fpid=$!
track_pid "$fpid"
wait_for "$T/follow" '^-- following'
# Index 19 stays half-written: retried for a second, then given up.
wait_for "$T/follow" '^-- record 19 skipped: still being written after a second --$'
kill -USR1 "$HV_PID"          # 5 new records, indices 20..24
wait_for "$HV_OUT" '^grew 5 to 25'
wait_for "$T/follow" 'alloc 0x0000000901[0-8]0'
for _ in $(seq 100); do
    [ "$(grep -c 'alloc 0x00000009' "$T/follow")" -ge 5 ] && break
    sleep 0.05
done
[ "$(grep -c 'alloc 0x00000009' "$T/follow")" = 5 ] || fail "follow: $(grep 'alloc 0x00000009' "$T/follow")"
kill -USR2 "$HV_PID"          # 40 more (25..64): the ring keeps 49..64
wait_for "$HV_OUT" '^grew 40 to 65'
wait_for "$T/follow" '^-- 24 records lost: the ring overwrote them before they were read --$'
for _ in $(seq 100); do
    [ "$(grep -c 'alloc 0x00000009' "$T/follow")" -ge 21 ] && break
    sleep 0.05
done
[ "$(grep -c 'alloc 0x00000009' "$T/follow")" = 21 ] || fail "follow after the burst: $(grep -c 'alloc 0x00000009' "$T/follow") records"
grep -q 'alloc 0x000000090400 ' "$T/follow" || fail "follow lacks index 64 (0x90400)"
! grep -q 'alloc 0x0000000900[0-9a-f]0 ' <(grep -v 'alloc 0x0000000901[45678]0 ' "$T/follow") ||
    fail "follow printed a record the ring had overwritten"
kill "$HV_PID"
for _ in $(seq 100); do
    kill -0 "$fpid" 2>/dev/null || break
    sleep 0.05
done
kill -0 "$fpid" 2>/dev/null && fail "--follow did not stop when the process exited"
wait "$fpid"
rc=$?
[ "$rc" = 0 ] || fail "--follow exit $rc after the process exited: $(cat "$T/follow.err")"
grep -q "^-- process $HV_PID exited --" "$T/follow" || fail "follow did not say the process exited"
echo "hit show tests passed"
