#!/bin/bash
# `pooltag leaks` on leakfix under the preload (`pooltag run --`): blocks
# are pooltag's (found by their headers, mimalloc backend and libc
# backend), the leaked ones exactly the dropped and cyclic blocks, live
# and from gcore, grouped by tag and call site with the site's function
# named (make_dropped).
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/leaks_lib.sh"

for backend in mimalloc libc; do
    start_fix leakfix env PT_BACKEND=$backend "$POOLTAG" run --
    wait_tagged "$FIX_PID"
    "$POOLTAG" leaks --json --all "$FIX_PID" >"$T/live.json" || fail "$backend: leaks PID exited $?"
    [ "$(jget "$T/live.json" 'd["tagged"]')" = True ] || fail "$backend: not seen as tagged"
    check_exact "$backend live" "$T/live.json"
    "$POOLTAG" leaks "$FIX_PID" >"$T/live.txt" || fail "leaks table exited $?"
    grep -qE '^ +3 +120 +(40|mixed) .*site leakfix!make_dropped\+' "$T/live.txt" ||
        fail "$backend: the dropped blocks are not grouped at make_dropped: $(cat "$T/live.txt")"
    take_gcore "$FIX_PID" "$T/core.$backend"
    "$POOLTAG" leaks --json --all "$T/core.$backend" >"$T/core.json" || fail "leaks CORE exited $?"
    check_exact "$backend core" "$T/core.json"
    exec 9>&-
    wait "$FIX_PID" 2>/dev/null
done
echo PASS
