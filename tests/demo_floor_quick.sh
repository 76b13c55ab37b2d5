#!/usr/bin/env bash
# bench/floor_bench.sh --quick --no-callgrind builds its five variants and
# runs all eight configurations (bare mimalloc, the three lower-bound
# header variants, mimalloc and the preload through malloc, glibc and the
# preload on glibc), printing a median CPU time and a ratio for each.  The
# numbers themselves are not judged here.  Bad arguments exit 2 with one
# line.
. "$(dirname "$0")/demo_lib.sh"
bench="$(dirname "$0")/../bench/floor_bench.sh"
pl="$PT_BUILD/src/preload/libpooltag-preload.so"
out=$(mktemp)
timeout 100 bash "$bench" --quick --no-callgrind --preload "$pl" >"$out" 2>&1
st=$?
cat "$out"
if [ "$st" = 0 ]; then ok "exit status 0"; else bad "exit status $st"; fi
for c in bare pad16 header counted mimalloc pt-mi glibc pt-libc; do
    if grep -Eq "^$c +[0-9]+\.[0-9]+ +\([0-9.]+-[0-9.]+\) +[0-9]+\.[0-9]{2}" "$out"; then
        ok "row $c"
    else
        bad "no row for $c"
    fi
done
grep -Eq "^bare +[0-9.]+ +\([0-9.-]+\) +1\.00" "$out" && ok "bare is the baseline (1.00)" ||
    bad "bare is not 1.00"
for args in "--runs 0" "--ops x" "--bogus" "--preload /nonexistent.so"; do
    # shellcheck disable=SC2086
    timeout 10 bash "$bench" $args >/dev/null 2>"$out"; st=$?
    if [ "$st" = 2 ] && [ "$(wc -l <"$out")" = 1 ] && grep -q "^floor_bench: " "$out"; then
        ok "$args: exit 2, one line"
    else
        bad "$args: status $st, stderr: $(cat "$out")"
    fi
done
rm -f "$out"
finish
