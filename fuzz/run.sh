#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] — build the libFuzzer targets (clang, PT_FUZZ=ON) if
# needed and run each one for SECONDS (default 60) on a scratch copy of its
# seed corpus (fuzz/corpus/NAME-without-fuzz_/), so the checked-in corpus is
# never modified.  Exit status: 0 all targets ran clean, 1 a target found a
# crash (its reproducer is kept in the work directory and named here),
# 2 usage or build error.
#
# Environment: PT_FUZZ_BUILD (build directory, default build-fuzz in the
# source tree), PT_FUZZ_JOBS (parallel build jobs and targets fuzzed at a
# time, default 2).
set -euo pipefail

secs=${1:-60}
case $secs in
    '' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2 ;;
esac
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PT_FUZZ_BUILD:-$src/build-fuzz}
jobs=${PT_FUZZ_JOBS:-2}

if ! command -v clang >/dev/null; then
    echo "fuzz/run.sh: clang is needed (scripts/deps.sh installs it)" >&2
    exit 2
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang \
        -DCMAKE_CXX_COMPILER=clang++ -DPT_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 2
fi

targets=()
for f in "$src"/fuzz/fuzz_*.c; do
    targets+=("$(basename "$f" .c)")
done
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >/dev/null || {
    echo "fuzz/run.sh: build failed (run cmake --build $build to see why)" >&2
    exit 2
}

work=$(mktemp -d /tmp/pt_fuzz_XXXXXX)

# One target on a scratch copy of its seeds; its exit status in $work/$t.rc.
run_one() {
    local t=$1 rc=0
    local dirs=("$work/$t")
    local seeds=$src/fuzz/corpus/${t#fuzz_}
    [ -d "$seeds" ] && dirs+=("$seeds")
    mkdir -p "$work/$t"
    # -timeout: one input may take at most 10 s; -rss_limit_mb bounds memory.
    (cd "$work/$t" && "$build/fuzz/$t" -max_total_time="$secs" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${dirs[@]}" >"$work/$t.log" 2>&1) || rc=$?
    echo "$rc" >"$work/$t.rc"
}

# $jobs targets at a time (each fuzzer is one process on one core): the
# same SECONDS per target in about 1/$jobs of the time.
echo "fuzz/run.sh: ${#targets[@]} targets, ${secs}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait || true

status=0
for t in "${targets[@]}"; do
    rc=$(cat "$work/$t.rc" 2>/dev/null || echo missing)
    if [ "$rc" != 0 ]; then
        echo "fuzz/run.sh: $t FAILED (status $rc); log and reproducer in $work/$t" >&2
        tail -40 "$work/$t.log" >&2 || true
        status=1
        continue
    fi
    echo "fuzz/run.sh: $t for ${secs}s"
    grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$work/$t.log" | sed "s/^/  $t /"
done
if [ "$status" = 0 ]; then
    rm -rf "$work"
fi
exit "$status"
