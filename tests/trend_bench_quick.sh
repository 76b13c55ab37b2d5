#!/usr/bin/env bash
# trend_bench_quick — bench/trend_bench.sh runs end to end on a small log
# (5,000 samples, 2 runs, its cache in the test's directory) and prints its
# table: the wall, CPU and RSS rows with ratios, and PASS or MISS.  The
# figures are not judged here (no timing assertion); bad arguments exit 2
# with one line.
. "$PT_SRC/tests/cli_lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }
[ -x /usr/bin/time ] || { echo "SKIP: /usr/bin/time needed" >&2; exit 77; }
bench=$PT_SRC/bench/trend_bench.sh
st=0
PT_BENCH_CACHE=$T POOLTAG=$POOLTAG timeout 120 bash "$bench" --samples 5000 --runs 2 >"$T/out" 2>&1 || st=$?
cat "$T/out"
[ "$st" = 0 ] || [ "$st" = 1 ] || fail "trend_bench.sh exited $st"
for row in wall cpu "max RSS"; do
    grep -Eq "^$row +[0-9.]+(s|MB) +[0-9.]+(s|MB) +[0-9]+\.[0-9]{2}$" "$T/out" || fail "no $row row"
done
grep -Eq '^(PASS|MISS)$' "$T/out" || fail "no PASS/MISS line"
grep -q '1 process x 5000 samples x 3 tags (format 2), 5 series, 2 runs' "$T/out" || fail "no header line"
ls "$T"/trend-v2-5000-3-*.db >/dev/null || fail "the log was not cached"
for args in "--runs 0" "--samples x" "--version 3" "--bogus" "--pooltag /nonexistent"; do
    # shellcheck disable=SC2086
    st=0; PT_BENCH_CACHE=$T timeout 10 bash "$bench" $args >/dev/null 2>"$T/err" || st=$?
    [ "$st" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "^trend_bench: " "$T/err" ||
        fail "$args: status $st, stderr: $(cat "$T/err")"
done
echo "trend_bench_quick: ok"
