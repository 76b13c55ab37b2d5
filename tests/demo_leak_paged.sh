#!/usr/bin/env bash
# notmyfault --leak paged leaks at the asked rate under tag Leak while the
# background tags stay steady, exits 0 after --duration, and its summary
# (read back from the runtime's counters) agrees with its own count.
# Run with 1 and 3 threads and with both backends.
. "$(dirname "$0")/demo_lib.sh"

run_case() { # name env threads
    local name=$1 envs=$2 threads=$3 out st
    out=$(mktemp)
    env "$envs" timeout 30 "$NOTMYFAULT" --leak paged --rate 256K \
        --duration 2 --threads "$threads" >"$out" 2>&1
    st=$?
    if [ "$st" != 0 ]; then bad "$name: exit status $st"; cat "$out"; rm -f "$out"; return; fi
    local secs leaked
    secs=$(sed -n 's/^notmyfault: stopped after \([0-9.]*\) s.*/\1/p' "$out")
    leaked=$(sed -n 's/^notmyfault: leaked \([0-9]*\) bytes in .*paged pool).*/\1/p' "$out")
    if [ -z "$secs" ] || [ -z "$leaked" ]; then
        bad "$name: no summary"; cat "$out"; rm -f "$out"; return
    fi
    # Expected: 256 KiB/s x the time it ran (printed to 10 ms), to within
    # a block per thread and one 10 ms tick.
    if awk -v l="$leaked" -v s="$secs" 'BEGIN { e = 262144 * s;
            exit !(l >= 0.98 * e - 4096 && l <= 1.01 * e + 4096) }'; then
        ok "$name: leaked $leaked bytes in $secs s (rate 256K/s)"
    else
        bad "$name: leaked $leaked bytes in $secs s, want about $((262144 * 2))"
    fi
    local r; r=$(row "$out" Leak)
    read -r _ pool allocs frees _ bytes _ failures <<<"$r"
    if [ "$pool" = paged ] && [ "$bytes" = "$leaked" ] && [ "$frees" = 0 ] &&
       [ "$allocs" = $((leaked / 1024)) ] && [ "$failures" = 0 ]; then
        ok "$name: Leak row matches ($r)"
    else
        bad "$name: Leak row '$r' does not match $leaked bytes leaked"
    fi
    check_steady "$out" Cach paged
    check_steady "$out" Conf nonpaged
    check_steady "$out" Sess paged
    if grep -q "counters agree" "$out" && grep -q "no allocation failed" "$out"; then
        ok "$name: counters agree, no failure"
    else
        bad "$name: summary lines missing"; cat "$out"
    fi
    rm -f "$out"
}
run_case "mimalloc 1 thread"  "PT_BACKEND=mimalloc" 1
run_case "mimalloc 3 threads" "PT_BACKEND=mimalloc" 3
run_case "libc 1 thread"      "PT_BACKEND=libc" 1
finish
