#!/usr/bin/env bash
# pooltag run's flags of issue 11: --hit, --hit-trap, --verify,
# --fail-on-leak, --stack-depth set PT_HIT, PT_HIT_TRAP, PT_VERIFY,
# PT_FAIL_ON_LEAK, PT_STACK_DEPTH (checked the same way when they come
# from the environment); bad values are refused before CMD starts.  With
# the runtime's stack capture, `run --hit TAG` records from the first
# allocation and `run --verify` tracks from the start.
. "$(dirname "$0")/run_lib.sh"
need_preload
unset PT_HIT PT_HIT_TRAP PT_VERIFY PT_FAIL_ON_LEAK PT_STACK_DEPTH
# run -v prints the variables it set, in the table's order.
"$POOLTAG" run -v --hit Leak --hit 'Se*' --hit-trap --verify 'libfoo*' --fail-on-leak \
    --stack-depth 12 -- /bin/true 2>"$T/v" || fail "run -v exit $?"
for want in 'PT_HIT=Leak,Se\*' 'PT_HIT_TRAP=1' 'PT_VERIFY=libfoo\*' 'PT_FAIL_ON_LEAK=1' 'PT_STACK_DEPTH=12'; do
    grep -q "^pooltag run:   $want\$" "$T/v" || fail "run -v lacks $want: $(cat "$T/v")"
done
expect_error run "--hit: at most 8 patterns" "$POOLTAG" run --hit a,b,c,d,e,f,g,h --hit i -- /bin/true
expect_error run "--hit 'Toolongpattern12345': longer than 15 characters" "$POOLTAG" run --hit Toolongpattern12345 -- /bin/true
expect_error run "--hit wants tag patterns" "$POOLTAG" run --hit 'a,,b' -- /bin/true
expect_error run "--verify 'lib foo': a pattern has no spaces" "$POOLTAG" run --verify 'lib foo' -- /bin/true
expect_error run "--stack-depth: '0' is not a number from 1 to 64" "$POOLTAG" run --stack-depth 0 -- /bin/true
expect_error run "--stack-depth: '65' is not a number from 1 to 64" "$POOLTAG" run --stack-depth 65 -- /bin/true
PT_STACK_DEPTH=x expect_error run "PT_STACK_DEPTH (from the environment): 'x' is not a number" "$POOLTAG" run -- /bin/true
PT_HIT='a b' expect_error run "PT_HIT (from the environment) 'a b': a pattern has no spaces" "$POOLTAG" run -- /bin/true
# From the start, with the runtime.
NMF=${NOTMYFAULT:-$PT_BUILD/demo/notmyfault}
[ -x "$NMF" ] || fail "no notmyfault at $NMF (built with the tests)"
"$POOLTAG" run --hit Leak --verify notmyfault -- "$NMF" --quiet --leak paged --rate 256K &
pid=$!
track_pid "$pid"
for _ in $(seq 100); do
    grep -q 'memfd:pooltag' "/proc/$pid/maps" 2>/dev/null && break
    sleep 0.05
done
sleep 0.5
rc=0
"$POOLTAG" hit --show "$pid" --json >"$T/h.json" 2>"$T/h.err" || rc=$?
[ "$rc" = 0 ] || fail "hit --show exit $rc: $(cat "$T/h.err")"
python3 - "$T/h.json" <<'PY' || fail "run --hit: $(head -c 600 "$T/h.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["settings"]["patterns"] == ["Leak"], d["settings"]
recs = [r for r in d["records"] if r["tag"] == "Leak" and r["op"] == "alloc"]
assert recs, "no Leak allocation recorded"
assert any(f["symbol"] == "leak_step" for f in recs[0]["frames"]), recs[0]["frames"]
PY
"$POOLTAG" verify "$pid" >"$T/v.txt" || fail "verify exit $?"
grep -q 'notmyfault!leak_step+0x' "$T/v.txt" || fail "run --verify: no leak_step caller: $(head -40 "$T/v.txt")"
echo "hit run tests passed"
