#!/usr/bin/env bash
# A gcore of a tagged process that stands still (core_fx) read as a source:
# the pim core backend agrees with the live process (test_pimg: regions,
# bytes, threads with registers, modules with build-ids, the segment), and
# used, vm (pools), sites, lm, ln and find on the core print what they
# printed live just before.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/core_lib.sh"

start_fx
P=$FX_PID
"$POOLTAG" used "$P" >"$T/used.live" || fail "used live"
"$POOLTAG" vm "$P" >"$T/vm.live" || fail "vm live"
"$POOLTAG" sites "$P" CoA1 >"$T/sites.live" || fail "sites live"
"$POOLTAG" lm "$P" >"$T/lm.live" || fail "lm live"
"$POOLTAG" find CoA1 "$P" >"$T/find.live" || fail "find live"
"$POOLTAG" lm --json "$P" >"$T/lm.json" || fail "lm --json live"
# An address inside libpooltag's code and one inside libc's, for ln.
ADDRS=$(python3 - "$T/lm.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for m in d["modules"]:
    if m["name"].startswith(("libpooltag", "libc.so")):
        out.append(hex(int(m["start"], 16) + 0x1234))
print(" ".join(out))
PY
)
[ "$(echo "$ADDRS" | wc -w)" = 2 ] || fail "libpooltag and libc not in lm: $(cat "$T/lm.live")"
for a in $ADDRS; do
    "$POOLTAG" ln "$P" "$a" >"$T/ln.$a.live" || fail "ln $a live"
done

C=$T/core.fx
take_gcore "$P" "$C"

"$TEST_PIMG" "$P" "$C" >"$T/pimg.out" || fail "test_pimg: $(cat "$T/pimg.out")"
grep -q "segment found" "$T/pimg.out" || fail "test_pimg found no segment: $(cat "$T/pimg.out")"
grep -q ", 2 threads," "$T/pimg.out" || fail "test_pimg: not 2 threads: $(cat "$T/pimg.out")"

"$POOLTAG" used "$C" >"$T/used.core" 2>"$T/err" || fail "used core: $(cat "$T/err")"
head -1 "$T/used.core" | grep -q "core $C of process $P (core_fx)" ||
    fail "used core: first line: $(head -1 "$T/used.core")"
grep -q "^ CoA1 " "$T/used.core" || fail "used core: no CoA1 row: $(cat "$T/used.core")"
same_report used "$T/used.live" "$T/used.core"

"$POOLTAG" vm "$C" >"$T/vm.core" || fail "vm core"
grep -q "not known (a core file holds no VmRSS)" "$T/vm.core" || fail "vm core: $(cat "$T/vm.core")"
diff <(grep Pool "$T/vm.live") <(grep Pool "$T/vm.core") >"$T/diff" ||
    fail "vm: pool figures differ: $(cat "$T/diff")"
[ "$(grep -c Pool "$T/vm.core")" -ge 4 ] || fail "vm core: no pool lines: $(cat "$T/vm.core")"

"$POOLTAG" sites "$C" CoA1 >"$T/sites.core" || fail "sites core"
same_report sites "$T/sites.live" "$T/sites.core"
grep -q "core_fx!main" "$T/sites.core" || fail "sites core: main not named: $(cat "$T/sites.core")"

"$POOLTAG" used --json "$C" >"$T/used.json" || fail "used --json core"
python3 - "$T/used.json" "$P" <<'PY' || fail "used --json core: $(head -c 600 "$T/used.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"]["kind"] == "core", d["source"]
assert d["source"]["pid"] == int(sys.argv[2])
PY

"$POOLTAG" lm "$C" >"$T/lm.core" 2>"$T/lm.err" || fail "lm core: $(cat "$T/lm.err")"
[ ! -s "$T/lm.err" ] || fail "lm core warned: $(cat "$T/lm.err")"
head -1 "$T/lm.core" | grep -q "(core, tags from the module table)" ||
    fail "lm core: $(head -1 "$T/lm.core")"
same_report lm "$T/lm.live" "$T/lm.core"

for a in $ADDRS; do
    "$POOLTAG" ln "$C" "$a" >"$T/ln.$a.core" 2>"$T/ln.err" || fail "ln core $a: $(cat "$T/ln.err")"
    diff "$T/ln.$a.live" "$T/ln.$a.core" >"$T/diff" || fail "ln $a differs: $(cat "$T/diff")"
    grep -q '!' "$T/ln.$a.core" || fail "ln $a: no symbol: $(cat "$T/ln.$a.core")"
done
# find: the tag's bytes in the modules, the code that gcore left out of
# the core read from the files (same build-id).
"$POOLTAG" find CoA1 "$C" >"$T/find.core" 2>"$T/err" || fail "find core: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "find core warned: $(cat "$T/err")"
head -1 "$T/find.core" | grep -q "in core $C of process $P (core_fx)" ||
    fail "find core: $(head -1 "$T/find.core")"
grep -q "^code  core_fx!main+" "$T/find.core" || fail "find core: no code hit in main: $(cat "$T/find.core")"
same_report find "$T/find.live" "$T/find.core"
echo "PASS: $(cat "$T/pimg.out")"
