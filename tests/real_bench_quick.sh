#!/usr/bin/env bash
# bench/real_bench.sh --quick: the benchmark of the preload on real programs
# runs (2 short rounds), its honesty checks pass (the preload was mapped into
# every pooltag process and not into the plain ones, the process itself
# printed the intended backend, the counts read back with `pooltag used` and
# PT_EXIT_REPORT show the allocations, callgrind saw pt__pl_malloc called),
# and it prints a CPU ratio with its interval for every workload and backend
# and the callgrind instruction counts.  Its numbers mean nothing and are not
# checked.  Also: bad arguments exit 2 with a one-line error; --help exits 0.
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
need_cmd redis-server redis-benchmark redis-cli /usr/bin/python3 valgrind
[ -x "$POOLTAG" ] || skip "$POOLTAG not built"

B=$PT_SRC/bench/real_bench.sh
for bad_args in "--rounds 1" "--rounds x" "--only foo" "--bogus" "--rounds"; do
    # shellcheck disable=SC2086  # split on purpose
    out=$(bash "$B" $bad_args 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [ -n "$out" ]; then
        ok "real_bench.sh $bad_args: exit 2, '$out'"
    else
        bad "real_bench.sh $bad_args: exit $rc, stderr '$out' (want 2 and one line)"
    fi
done
if bash "$B" --help | grep -q -- '--rounds N'; then ok "--help"; else bad "--help does not describe --rounds"; fi

rc=0
timeout 600 bash "$B" --quick >"$T/bench.out" 2>&1 || rc=$?
cat "$T/bench.out"
if [ "$rc" = 0 ]; then
    ok "real_bench.sh --quick exited 0"
else
    bad "real_bench.sh --quick exited $rc"
fi
if grep -qE '^honesty checks: all [0-9]+ passed' "$T/bench.out" && ! grep -q 'HONESTY CHECK FAILED' "$T/bench.out"; then
    ok "honesty checks passed: $(grep '^honesty checks' "$T/bench.out")"
else
    bad "honesty checks did not all pass"
fi
num='[0-9]+\.[0-9]{3}'
n=$(grep -cE "^(redis|py-pymalloc|py-malloc) +pt-(mi|libc) +.* $num \[$num-$num\] +<=(1\.000|1\.031) +(PASS|MISS) +(below: sure PASS|above: sure MISS|contains the target) +$num \[$num-$num\] " "$T/bench.out")
if [ "$n" = 6 ]; then
    ok "6 ratio rows (redis, python x2, for pt-mi and pt-libc), each with its interval, target and result"
else
    bad "$n well-formed ratio rows, want 6"
fi
n=$(grep -cE '^  (plain|pt-mi|pt-libc) +[0-9]+ +[0-9]+\.[0-9]{3} +[0-9]+ ' "$T/bench.out")
if [ "$n" = 3 ]; then
    ok "callgrind: 3 instruction counts"
else
    bad "callgrind: $n instruction-count rows, want 3"
fi
finish
