#!/usr/bin/env bash
# Issue 12 item 5, end to end on one process that is never restarted
# (tests/spv_host.c: tag Ovr1 allocated and freed in a loop, through the
# library, started with PT_SPECIAL_RECOVER=1 so that it survives the
# overrun it commits):
#   pooltag used names Ovr1; pooltag hit records its stacks; pooltag
#   special puts it in guard pages (the status counts its blocks); the
#   overrun is caught with the overrunning and the allocating function and
#   the offset, from the PID and from a snapshot; --off switches the pool
#   off and the program goes on.
# Skips (77) after the hit step while the runtime has no special pool (the
# base of issue 12: stubs), so that it runs once the pool is merged.
. "$(dirname "$0")/hv_lib.sh"
unset PT_SPECIAL PT_SPECIAL_UNDERRUN PT_SPECIAL_EXACT PT_SAMPLE_GUARD PT_QUARANTINE \
    PT_SPECIAL_MAX_PAGES PT_FAIL PT_HIT PT_VERIFY
host="$PT_BUILD/tests/spv_host"
[ -x "$host" ] || fail "$host not built"
mkfifo "$T/in"
PT_SPECIAL_RECOVER=1 "$host" <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 7>"$T/in"
wait_for "$T/out" '^ready$'
wait_tagged "$pid" Ovr1

# 1. Counters: Ovr1 is a tag of the process.
"$POOLTAG" used "$pid" >"$T/used" || fail "used exit $?"
grep -q '^ Ovr1 ' "$T/used" || fail "used does not name Ovr1: $(cat "$T/used")"
# 2. Stacks: hit records Ovr1's allocations with the program's main.
"$POOLTAG" hit "$pid" Ovr1 >"$T/hit" || fail "hit exit $?: $(cat "$T/hit")"
sleep 0.3
"$POOLTAG" hit --show "$pid" --json >"$T/hit.json" || fail "hit --show exit $?"
python3 - "$T/hit.json" <<'PY' || fail "hit --show: $(head -c 1000 "$T/hit.json")"
import json, sys
d = json.load(open(sys.argv[1]))
recs = [r for r in d["records"] if r["tag"] == "Ovr1"]
assert recs, d["ring"]
assert any(f.get("symbol") == "main" for r in recs for f in r["frames"]), recs[0]
PY
"$POOLTAG" hit "$pid" --off >/dev/null || fail "hit --off exit $?"
# 3. Guard pages for Ovr1, exact so that the byte after a 24-byte block is
# on the guard page.
"$POOLTAG" special "$pid" Ovr1 --exact >"$T/sp" || fail "special exit $?: $(cat "$T/sp")"
grep -q "^selectors: 'Ovr1'$" "$T/sp" || fail "special output: $(cat "$T/sp")"
grep -q '^applied: ' "$T/sp" || fail "not applied (the program allocates all the time): $(cat "$T/sp")"
status() { "$POOLTAG" special "$pid" --json >"$T/st.json" || fail "status exit $?"; }
on=0
for _ in $(seq 30); do
    "$POOLTAG" special "$pid" >"$T/st" || fail "status exit $?"
    if grep -q '^allocs [1-9]' "$T/st" && grep -q 'blocks live [1-9]' "$T/st"; then
        on=1
        break
    fi
    sleep 0.1
done
status
python3 - "$T/st.json" <<'PY' || fail "status: $(cat "$T/st.json")"
import json, sys
d = json.load(open(sys.argv[1]))
s = d["settings"]
assert [x["selector"] for x in s["selectors"]] == ["Ovr1"] and s["exact"], s
assert s["generation"] == s["applied_generation"], s
PY
if [ "$on" = 0 ]; then
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["pool"]["region_pages"] == 0 and d["handler"] == "not installed" else 1)' "$T/st.json"; then
        echo "SKIP: the runtime has no special pool yet (Ovr1 selected and applied, no block placed)" >&2
        exit 77
    fi
    fail "Ovr1 selected, the pool reserved, but no block counted: $(cat "$T/st.json")"
fi
python3 - "$T/st.json" <<'PY' || fail "status: $(cat "$T/st.json")"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["pool"]
assert p["on"] and p["tags_matched"] == 1 and d["handler"] == "on", d
assert 1 <= p["blocks_live"] <= 5 and p["bytes_live"] == 24 * p["blocks_live"], p
assert p["pages_used"] >= 2 * p["blocks_live"], p
PY
# 4. The overrun, caught at the write with both functions and the offset.
echo overrun >&7
wait_for "$T/out" '^done overrun$'
kill -0 "$pid" || fail "the program died despite PT_SPECIAL_RECOVER=1: $(cat "$T/err")"
check_report() {
    python3 - "$1" <<'PY' || fail "special --show $2: $(head -c 2000 "$1")"
import json, sys
d = json.load(open(sys.argv[1]))
rs = [r for r in d["reports"] if r["kind"] == "overrun"]
assert len(rs) == 1, d["reports"]
r = rs[0]
assert (r["tag"], r["size"], r["offset"], r["access"]) == ("Ovr1", 24, 0, "write"), r
assert r["recovered"] is True and r["signal"] is None, r
assert int(r["fault_addr"], 16) == int(r["block"], 16) + 24, r
assert r["stack"]["frames"][0]["symbol"] == "spv_overrun_write", r["stack"]["frames"][:3]
assert r["alloc_stack"]["frames"][0]["symbol"] == "spv_overrun_alloc", r["alloc_stack"]["frames"][:3]
PY
}
"$POOLTAG" special --show "$pid" --json >"$T/show.json" || fail "--show exit $?"
check_report "$T/show.json" "$pid"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" special_show "$T/show.json" ||
    fail "special --show JSON of a live process does not follow docs/json.md"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" special "$T/st.json" ||
    fail "special status JSON of a live process does not follow docs/json.md"
grep -q 'overrun' "$T/err" || fail "no report on the program's stderr: $(cat "$T/err")"
"$POOLTAG" special --show "$pid" >"$T/show" || fail "--show text exit $?"
grep -q 'overrun (write) at 0x[0-9a-f]*, end+0 of block 0x[0-9a-f]* (24 bytes, tag Ovr1)' "$T/show" ||
    fail "--show text: $(cat "$T/show")"
"$POOLTAG" snap -o "$T/s.ptsnap" "$pid" || fail "snap exit $?"
"$POOLTAG" special --show "$T/s.ptsnap" --json >"$T/snap.json" || fail "--show snapshot exit $?"
check_report "$T/snap.json" "$T/s.ptsnap"
# A use after free of a quarantined block: caught at the read, with the
# free stack.
echo uaf >&7
wait_for "$T/out" '^done uaf$'
"$POOLTAG" special --show "$pid" --blocks --json >"$T/uaf.json" || fail "--show --blocks exit $?"
python3 - "$T/uaf.json" <<'PY' || fail "use after free: $(head -c 2000 "$T/uaf.json")"
import json, sys
d = json.load(open(sys.argv[1]))
rs = [r for r in d["reports"] if r["kind"] == "use after free"]
assert len(rs) == 1, [r["kind"] for r in d["reports"]]
r = rs[0]
assert (r["tag"], r["size"], r["offset"], r["access"]) == ("Ovr1", 24, 8, "read"), r
assert r["stack"]["frames"][0]["symbol"] == "spv_uaf_read", r["stack"]["frames"][:3]
assert r["free_stack"] and any(f.get("symbol") == "main" for f in r["free_stack"]["frames"]), r
blocks = d["blocks"]
live = [b for b in blocks if b["state"] == "live"]
assert live and all(b["tag"] == "Ovr1" and b["size"] == 24 for b in live), live[:3]
assert all(b["alloc_stack"]["frames"] for b in live), live[:1]
assert any(b["state"] == "quarantined" and b["free_stack"] for b in blocks), len(blocks)
PY
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" special_show "$T/uaf.json" ||
    fail "special --show --blocks JSON of a live process does not follow docs/json.md"
# 5. Off: no new blocks; the program goes on with the ones it has.
"$POOLTAG" special "$pid" --off >"$T/off" || fail "--off exit $?"
status
a1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pool"]["allocs"])' "$T/st.json")
sleep 0.3
status
a2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pool"]["allocs"])' "$T/st.json")
[ "$a1" = "$a2" ] || fail "blocks still placed after --off: $a1 -> $a2"
echo quit >&7
exec 7>&-
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "the program exit $rc after --off: $(cat "$T/err")"
echo "special live tests passed"
