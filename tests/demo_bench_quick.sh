#!/usr/bin/env bash
# bench/alloc_bench --quick runs every case (no child fails, every case
# allocates from the heap it claims to) and prints the six pooltag ratios.
# The numbers themselves are not judged here.
. "$(dirname "$0")/demo_lib.sh"
bench="$PT_BUILD/bench/alloc_bench"
out=$(mktemp)
timeout 150 "$bench" --quick >"$out" 2>&1
st=$?
cat "$out"
if [ "$st" = 0 ]; then ok "exit status 0"; else bad "exit status $st"; fi
for what in "pooltag-mi / mimalloc, 1 thread" "pooltag-mi / mimalloc, 2 threads" \
            "pooltag-libc / glibc, 1 thread" "pooltag-libc / glibc, 2 threads" \
            "2T/1T throughput, pooltag-mi" "2T/1T throughput, pooltag-libc"; do
    if grep -Eq "^$what +[0-9]+\.[0-9]+ +[<>]= [0-9.]+ +(PASS|MISS)" "$out"; then
        ok "ratio: $what"
    else
        bad "no ratio line for '$what'"
    fi
done
timeout 10 "$bench" --rounds 0 >/dev/null 2>&1; st=$?
[ "$st" = 2 ] && ok "bad argument -> 2" || bad "--rounds 0: status $st, want 2"
rm -f "$out"
finish
