#!/usr/bin/env bash
# The injected failures where the counters are read: after PT_FAIL='FiA:25'
# failed some of FiA's requests (the program says how many), `pooltag used`
# has the line "Injected failures (pooltag fault): FiA N (total N)" and its
# JSON the tag's injected = N (FiB 0); `vm` the line "Injected Failures:"
# with N and JSON injected = N; `serve`'s /metrics
# pooltag_injected_failures_total{...,tag="FiA "} N and no series for FiB.
# A program without injection shows none of the lines.
. "$(dirname "$0")/serve_lib.sh"
PRELOAD=$PT_BUILD/src/preload/libpooltag-preload.so
[ -f "$PRELOAD" ] || { echo "SKIP: preload not built" >&2; exit 77; }
unset PT_FAIL PT_HIT PT_VERIFY PT_SPECIAL PT_SAMPLE_GUARD LD_PRELOAD
FP=$PT_BUILD/tests/fault_prog
mkfifo "$T/in"
PT_FAIL='FiA:25' env LD_PRELOAD="$PRELOAD" "$FP" live <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 7>"$T/in"
echo 2000 >&7
for _ in $(seq 400); do
    grep -q '^fails ' "$T/out" 2>/dev/null && break
    sleep 0.05
done
n=$(sed -n 's/^fails //p' "$T/out")
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "no injected failures: $(cat "$T/out" "$T/err")"

"$POOLTAG" used "$pid" >"$T/used" || fail "used: exit $?"
grep -qx "   Injected failures (pooltag fault): FiA $n (total $n)" "$T/used" ||
    fail "used: $(cat "$T/used")"
grep -q 'Special pool full' "$T/used" && fail "used shows special pool full: $(cat "$T/used")"
"$POOLTAG" used "$pid" --json >"$T/used.json" || fail "used --json: exit $?"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" used "$T/used.json" ||
    fail "used JSON schema"
python3 - "$T/used.json" "$n" <<'PY' || fail "used JSON: $(head -c 800 "$T/used.json")"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
tags = {t["tag"]: t for t in d["tags"]}
assert tags["FiA "]["injected"] == n and tags["FiA "]["paged"]["failures"] == n, tags["FiA "]
assert d["total"]["injected"] == n and d["total"]["special_full"] == 0, d["total"]
assert all(t["injected"] == 0 for k, t in tags.items() if k != "FiA "), tags
PY

"$POOLTAG" vm "$pid" >"$T/vm" || fail "vm: exit $?"
grep -Eq "^    Injected Failures: +$n  \\(pooltag fault" "$T/vm" || fail "vm: $(cat "$T/vm")"
"$POOLTAG" vm "$pid" --json >"$T/vm.json" || fail "vm --json: exit $?"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" vm "$T/vm.json" ||
    fail "vm JSON schema"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["injected"]==int(sys.argv[2]) and d["special_full"]==0, d' \
    "$T/vm.json" "$n" || fail "vm JSON: $(cat "$T/vm.json")"

start_serve --listen 127.0.0.1:0
http GET "${URL}metrics" >"$T/m.txt" || fail "GET /metrics"
grep -qx "pooltag_injected_failures_total{pid=\"$pid\",comm=\"fault_prog\",tag=\"FiA \"} $n" \
    "$T/m.txt" || fail "metrics: $(grep -i inject "$T/m.txt")"
grep -q 'pooltag_injected_failures_total{.*tag="FiB' "$T/m.txt" && fail "FiB has a series"
exec 7>&-

# no injection: none of the lines
mkfifo "$T/in2"
env LD_PRELOAD="$PRELOAD" "$FP" live <"$T/in2" >"$T/out2" 2>&1 &
pid2=$!
track_pid "$pid2"
exec 8>"$T/in2"
echo 10 >&8
for _ in $(seq 200); do
    grep -q '^fails ' "$T/out2" 2>/dev/null && break
    sleep 0.05
done
"$POOLTAG" used "$pid2" >"$T/used2"
"$POOLTAG" vm "$pid2" >"$T/vm2"
grep -q 'Injected' "$T/used2" "$T/vm2" && fail "lines without injection: $(cat "$T/used2" "$T/vm2")"
exec 8>&-
echo "fault counters tests passed"
