#!/usr/bin/env bash
# bench/churn_bench --quick runs every configuration (no child fails, each
# allocates from the heap it claims to, the pooltag ones counted every
# malloc and free of the workload exactly after its threads ended) and
# prints the ratios.  The numbers themselves are not judged here.
. "$(dirname "$0")/demo_lib.sh"
bench="$PT_BUILD/bench/churn_bench"
out=$(mktemp)
timeout 100 "$bench" --quick >"$out" 2>&1
st=$?
cat "$out"
if [ "$st" = 0 ]; then ok "exit status 0"; else bad "exit status $st"; fi
for cfg in pooltag-mi pooltag-libc; do
    if grep -Eq "^$cfg +(not-glibc|glibc) +exact +[0-9]" "$out"; then
        ok "$cfg: counts exact"
    else
        bad "$cfg: no row with exact counts"
    fi
done
for cfg in glibc mimalloc; do
    if grep -Eq "^$cfg +(not-glibc|glibc) +none +[0-9]" "$out"; then
        ok "$cfg: bare (no pooltag segment)"
    else
        bad "$cfg: no bare row"
    fi
done
for what in "pooltag-mi / mimalloc" "pooltag-libc / glibc"; do
    if grep -Eq "^$what +[0-9]+\.[0-9]+ +[0-9.]+\.\.[0-9.]+ +[0-9]+\.[0-9]+ " "$out"; then
        ok "ratio: $what"
    else
        bad "no ratio line for '$what'"
    fi
done
grep -q "INVALID\|FAILED" "$out" && bad "a configuration FAILED or was INVALID"
timeout 10 "$bench" --rounds 0 >/dev/null 2>&1; st=$?
[ "$st" = 2 ] && ok "bad argument -> 2" || bad "--rounds 0: status $st, want 2"
rm -f "$out"
finish
