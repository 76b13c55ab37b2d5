#!/bin/bash
# The second walkthrough of docs/dumps.md, end to end
# on a gcore of cxxleak (tests/fixtures/cxxleak.cc): 3000 requests, of
# which those with req % 7 == 0 (429) drop their Session.  `pooltag leaks`
# on the core groups exactly 429 blocks under "vtable for Session" (the
# class named through the first word, demangled) and nothing else; with
# the heap verb (`heap --stat`, `heap --size N`) the Session size stands
# out and its blocks show the vtable.  Live: the same group.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/leaks_lib.sh"

start_fix cxxleak
take_gcore "$FIX_PID" "$T/core"
"$POOLTAG" leaks "$T/core" >"$T/core.txt" || fail "leaks CORE exited $?"
"$POOLTAG" leaks --json "$T/core" >"$T/core.json" || fail "leaks --json CORE exited $?"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" leaks "$T/core.json" ||
    fail "leaks --json does not follow docs/json.md"
n=$(jget "$T/core.json" 'len(d["groups"])')
[ "$n" = 1 ] || fail "expected one group of leaked blocks, got $n: $(cat "$T/core.txt")"
[ "$(jget "$T/core.json" 'd["groups"][0]["blocks"]')" = 429 ] ||
    fail "expected 429 leaked Sessions: $(cat "$T/core.txt")"
jget "$T/core.json" 'd["groups"][0]["name"]' | grep -q '^cxxleak!vtable for Session+16$' ||
    fail "the group is not named by the vtable: $(cat "$T/core.txt")"
grep -q 'vtable for Session+16' "$T/core.txt" || fail "table lacks the class: $(cat "$T/core.txt")"
size=$(jget "$T/core.json" 'd["groups"][0]["size"]')
ex=$(jget "$T/core.json" 'd["groups"][0]["example"]')

if "$POOLTAG" help heap >/dev/null 2>&1; then
    "$POOLTAG" heap --stat "$T/core" >"$T/stat.txt" || fail "heap --stat exited $?"
    grep -qw "$size" "$T/stat.txt" || fail "heap --stat does not show size $size: $(head -20 "$T/stat.txt")"
    "$POOLTAG" heap --size "$size" "$T/core" >"$T/size.txt" || fail "heap --size exited $?"
    grep -q "$ex" "$T/size.txt" || fail "heap --size $size does not list $ex: $(head -20 "$T/size.txt")"
else
    echo "note: no heap verb in this build; heap --stat/--size steps not run" >&2
fi

"$POOLTAG" leaks --json "$FIX_PID" >"$T/live.json" || fail "leaks PID exited $?"
[ "$(jget "$T/live.json" 'd["groups"][0]["blocks"]')" = 429 ] || fail "live: not 429 Sessions"
echo PASS
