#!/bin/bash
# `pooltag leaks` on leakfix (tests/fixtures/leakfix.c), untagged: live
# (stopped and resumed) and from its gcore, the leaked blocks are exactly
# the dropped and the cyclic ones — not those held by a waiting thread's
# stack local, a .bss global, an interior pointer, a chain from a global.
# The live process runs on after the scan; --fail-on-leak exits 1; the
# JSON follows docs/json.md.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/leaks_lib.sh"

start_fix leakfix
"$POOLTAG" leaks --json --all "$FIX_PID" >"$T/live.json" || fail "leaks PID exited $?"
json_ok "$T/live.json"
check_exact live "$T/live.json"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" leaks "$T/live.json" ||
    fail "leaks --json does not follow docs/json.md"
stopped=$(jget "$T/live.json" 'd["stopped_ns"]')
[ "$stopped" -gt 0 ] || fail "no pause reported for a live target"
# Resumed: the process still runs and is not stopped (state S, not t).
state=$(awk '{print $3}' "/proc/$FIX_PID/stat")
[ "$state" = S ] || fail "leakfix is in state $state after the scan"

"$POOLTAG" leaks "$FIX_PID" >"$T/live.txt" || fail "leaks table exited $?"
grep -q "^leaked: 5 blocks, 232 B" "$T/live.txt" || fail "table: $(cat "$T/live.txt")"
# The three dropped blocks of 40 bytes (usable 40) form one group.
grep -qE '^ +3 +120 +40 ' "$T/live.txt" || fail "no group of the 3 dropped blocks: $(cat "$T/live.txt")"

rc=0
"$POOLTAG" leaks --fail-on-leak "$FIX_PID" >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "--fail-on-leak exited $rc with leaks"

take_gcore "$FIX_PID" "$T/core"
"$POOLTAG" leaks --json --all "$T/core" >"$T/core.json" || fail "leaks CORE exited $?"
check_exact core "$T/core.json"
[ "$(jget "$T/core.json" 'd["stopped_ns"]')" = None ] || fail "a core has no pause"
echo PASS
