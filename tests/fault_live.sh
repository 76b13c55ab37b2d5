#!/usr/bin/env bash
# pooltag fault on a running process that is never restarted: nothing
# fails; `fault PID FiA:50:seed=3` fails about half of FiA's requests; the
# status (text and --json, against docs/json.md) names the selector and
# the tag's injected failures, equal to its failures and to what the
# program saw; a SPEC with the same tag replaces it (100%: all fail);
# --off of a selector not in effect changes nothing (exit 2); `--off`
# stops it all; a snapshot shows the same status.
. "$(dirname "$0")/fault_lib.sh"
mkfifo "$T/in"
env LD_PRELOAD="$PRELOAD" "$FP" live <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 7>"$T/in"
for _ in $(seq 200); do
    grep -q '^ready' "$T/out" 2>/dev/null && break
    sleep 0.05
done
grep -q '^ready' "$T/out" || fail "the program did not start: $(cat "$T/err")"

# batch N: the program makes N requests of FiA; prints the failures.
nb=0
batch() {
    echo "$1" >&7
    nb=$((nb + 1))
    for _ in $(seq 400); do
        [ "$(grep -c '^fails ' "$T/out")" -ge "$nb" ] && break
        sleep 0.05
    done
    last=$(grep '^fails ' "$T/out" | sed -n "${nb}p" | cut -d' ' -f2)
    [ -n "$last" ] || fail "batch $nb: no answer: $(cat "$T/err")"
}

batch 1000
[ "$last" = 0 ] || fail "$last failures before fault injection"

"$POOLTAG" fault "$pid" 'FiA:50:seed=3' >"$T/c1" 2>"$T/c1.err" ||
    fail "fault PID FiA:50: exit $?: $(cat "$T/c1.err")"
grep -q "^process $pid (fault_prog): fault injection FiA:50%:seed=3 (generation " "$T/c1" ||
    fail "change output: $(cat "$T/c1")"
batch 4000
half=$last
# 50% of 4000: 2000 +- 5 sigma (31.6)
[ "$half" -ge 1842 ] && [ "$half" -le 2158 ] || fail "FiA:50: $half of 4000 failed"

"$POOLTAG" fault "$pid" >"$T/s1" || fail "status: exit $?"
grep -qx 'selectors: FiA:50%:seed=3' "$T/s1" || fail "status selectors: $(cat "$T/s1")"
grep -q "^$half failures injected; 1 tag match now" "$T/s1" || fail "status total: $(cat "$T/s1")"
grep -Eq "^FiA +$half +$half\$" "$T/s1" || fail "status FiA row: $(cat "$T/s1")"
"$POOLTAG" fault "$pid" --json >"$T/s1.json" || fail "status --json: exit $?"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" fault "$T/s1.json" ||
    fail "fault --json does not follow docs/json.md: $(cat "$T/s1.json")"
python3 - "$T/s1.json" "$half" <<'PY' || fail "status JSON: $(cat "$T/s1.json")"
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert [s["spec"] for s in d["selectors"]] == ["FiA:50%:seed=3"], d["selectors"]
s = d["selectors"][0]
assert (s["kind"], s["pattern"], s["percent"], s["seed"]) == ("tag", "FiA", 50, 3), s
assert d["injected"] == n and d["matched_tags"] == 1, d
assert d["tags"] == [{"tag": "FiA ", "injected": n, "failures": n}], d["tags"]
PY

# The same tag again: replaced (one selector), at 100% all fail.
"$POOLTAG" fault "$pid" FiA >/dev/null || fail "replace: exit $?"
batch 500
[ "$last" = 500 ] || fail "FiA at 100%: $last of 500 failed"
"$POOLTAG" fault "$pid" >"$T/s2"
grep -qx 'selectors: FiA' "$T/s2" || fail "replaced selector: $(cat "$T/s2")"

# --off of a selector not in effect: one line, exit 2, nothing changed.
rc=0
"$POOLTAG" fault "$pid" FiB --off >"$T/o.out" 2>"$T/o.err" || rc=$?
[ "$rc" = 2 ] && [ ! -s "$T/o.out" ] && [ "$(wc -l <"$T/o.err")" = 1 ] &&
    grep -q "^pooltag fault: 'FiB' is not in effect in process $pid" "$T/o.err" ||
    fail "--off FiB: rc $rc: $(cat "$T/o.out" "$T/o.err")"
batch 100
[ "$last" = 100 ] || fail "after a refused --off: $last of 100 failed"

# A snapshot shows the same selectors.
"$POOLTAG" snap "$pid" -o "$T/s.snap" >/dev/null 2>&1 || fail "snap: exit $?"
"$POOLTAG" fault "$T/s.snap" >"$T/s3" || fail "status of a snapshot: exit $?"
grep -qx 'selectors: FiA' "$T/s3" || fail "snapshot status: $(cat "$T/s3")"

# Off: nothing fails any more; the counts stay.
"$POOLTAG" fault "$pid" --off >"$T/c3" || fail "--off: exit $?"
grep -q 'fault injection none (off)' "$T/c3" || fail "--off output: $(cat "$T/c3")"
batch 1000
[ "$last" = 0 ] || fail "$last failures after --off"
total=$((half + 600))
"$POOLTAG" fault "$pid" >"$T/s4"
grep -q "^$total failures injected" "$T/s4" || fail "total after off: $(cat "$T/s4")"
exec 7>&-
wait "$pid" || fail "the program exited $?: $(cat "$T/err")"
echo "fault live tests passed"
