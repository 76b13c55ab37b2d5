#!/usr/bin/env bash
# malloc and free in a signal handler under the preload (issue 9, low item).
# A SIGALRM handler (every 200 us) allocates and frees while the main loop
# allocates and frees.  Neither mimalloc nor glibc may be re-entered (plain
# mimalloc crashes on this program; glibc deadlocks): pooltag serves a
# handler that interrupted the backend from its side arena and defers its
# frees.  Guaranteed: no crash, no hang, and no "double free" that the
# program did not commit, with both backends.
. "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"
need_preload
bad=0
for be in mimalloc libc; do
    out=$(timeout 20 env PT_BACKEND=$be LD_PRELOAD="$PRELOAD" "$PT_BUILD/tests/preload_sigalloc" 2 2>"$T/err")
    st=$?
    n=$(awk '$1 == "signals" { print $2 }' <<<"$out")
    if [ "$st" != 0 ] || [ -s "$T/err" ] || [ -z "$n" ] || [ "$n" -lt 200 ]; then
        echo "FAIL signals-$be: status $st (124: hung), '$out', stderr:"; head -5 "$T/err"; bad=1
    else echo "ok   signals-$be: $out"; fi
done
# malloc_usable_size >= 1 for zero-byte blocks; realloc(glibc's block, 0)
for be in mimalloc libc; do
    out=$(timeout 20 env PT_BACKEND=$be LD_PRELOAD="$PRELOAD" "$PT_BUILD/tests/preload_zero" 2>&1)
    if [ "$out" != ok ]; then echo "FAIL zero-$be: $out"; bad=1; else echo "ok   zero-$be"; fi
done
exit $bad
