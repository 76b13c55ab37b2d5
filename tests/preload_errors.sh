#!/usr/bin/env bash
# Caller errors under the preload (PT_ON_ERROR=report, its default), both
# backends: a double free, a free of an address inside a block and a free
# of a block whose header was overwritten, for blocks of 32 B (glibc's
# tcache), 2,000 B (its bins) and 300,000 B (mmap'd).  Each is reported on
# one `pooltag:` line, recorded in the segment (`pooltag vm` shows it), and
# the program goes on and exits with its own status.  Under the glibc
# backend, glibc's free-list links overwrite pooltag's header when a block
# is freed; a pointer that is not a live block must never reach glibc's
# free (it aborted: "free(): invalid size", "munmap_chunk(): invalid
# pointer", or SIGSEGV).
. "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"
need_preload
prog=$PT_BUILD/tests/preload_errs
bad=0
one() { # backend case size want-regex
    local be=$1 c=$2 n=$3 re=$4 name="$1-$2-$3"
    local err=$T/$name.err out=$T/$name.out
    coproc P { exec env PT_BACKEND="$be" LD_PRELOAD="$PRELOAD" "$prog" "$c" "$n" 2>"$err"; }
    local pid=$P_PID line=""
    track_pid "$pid"
    read -r -t 20 -u "${P[0]}" line
    if [ "$line" != "survived $pid" ]; then
        exec {P[1]}>&-
        wait "$pid"; local st=$?
        echo "FAIL $name: did not survive (status $st):"; cat "$err"; bad=1; return
    fi
    "$POOLTAG" vm "$pid" >"$out" 2>&1
    exec {P[1]}>&-
    wait "$pid"; local st=$?
    if [ "$st" != 3 ]; then
        echo "FAIL $name: exit status $st, want the program's 3"; cat "$err"; bad=1
    elif [ "$(grep -c '^pooltag: ' "$err")" != 1 ] || ! grep -Eq "^pooltag: $re" "$err"; then
        echo "FAIL $name: want one 'pooltag: $re' line, stderr:"; cat "$err"; bad=1
    elif ! grep -Eq 'Caller Errors Detected: +1$' "$out"; then
        echo "FAIL $name: the segment does not record the error:"; cat "$out"; bad=1
    else
        echo "ok   $name: $(head -1 "$err" | cut -c1-60)"
    fi
}
for be in mimalloc libc; do
    for n in 32 2000 300000; do
        one "$be" double "$n" 'double free: address 0x[0-9a-f]+'
        one "$be" interior "$n" 'bad pointer: not a live pooltag block'
        one "$be" corrupt "$n" 'bad pointer: not a live pooltag block'
    done
done
exit $bad
