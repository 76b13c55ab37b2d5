#!/usr/bin/env bash
# bench/real_bench.sh --quick: the benchmark of the preload on real programs
# runs and prints a ratio for every workload and backend (one short round;
# its numbers mean nothing and are not checked).
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
need_cmd redis-server redis-benchmark redis-cli /usr/bin/python3 /usr/bin/time

rc=0
timeout 600 bash "$PT_SRC/bench/real_bench.sh" --quick >"$T/bench.out" 2>&1 || rc=$?
cat "$T/bench.out"
if [ "$rc" = 0 ]; then
    ok "real_bench.sh --quick exited 0"
else
    bad "real_bench.sh --quick exited $rc"
fi
n=$(grep -cE '^(redis-benchmark|python).*(mimalloc|libc) +[0-9.]+s? +[0-9.]+s? +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3}-[0-9]+\.[0-9]{3} +>= +(1\.00|0\.97) +(PASS|MISS) +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3}$' "$T/bench.out")
if [ "$n" = 6 ]; then
    ok "6 ratio rows (redis, python x2, for mimalloc and libc), each with range, target, cpu and RSS ratios"
else
    bad "$n well-formed ratio rows, want 6"
fi
finish
