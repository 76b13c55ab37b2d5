#!/usr/bin/env bash
# main_arena found by libc's debug symbols and by its shape alone give the
# same arenas and figures (test_gheap), on heapfix live; gh_walk's chunks
# add up to each arena's figures.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/heap_lib.sh"
start_heapfix
"$PT_BUILD/tests/test_gheap" "$HF_PID" >"$T/o" 2>"$T/err" || fail "test_gheap: $(cat "$T/err")"
grep -q '^3 arenas' "$T/o" || fail "test_gheap: $(cat "$T/o")"
echo PASS
