#!/usr/bin/env bash
# bench/dumps_bench.sh — the dump verbs on a large core (issue 13 item 8):
# `pooltag address CORE` (target: under 1 s on a 2 GiB core) and
# `pooltag search CORE VALUE` (target: at least 1 GB/s of the core's
# memory), against a plain memmem pass over the same file in the same run.
#
#   bench/dumps_bench.sh [--pooltag PATH] [--mb N] [--runs N] [--dir DIR] [--keep]
#
# The core: the useheap fixture (build/tests/fixtures/useheap_svc) grows
# its blob heap to N MiB (default 2000: about 2 GiB of touched anonymous
# memory), gcore writes it into DIR (default /tmp), the process is killed,
# and the core is deleted at the end (--keep keeps it).  Warm cache: each
# command runs once untimed, then N times (default 5); the median wall time
# is shown with the fastest and slowest run.
#
# What is compared, honestly:
#   - pooltag address CORE: opens the core (maps it, reads its notes),
#     classifies every region (a few words read from some), prints the
#     summary.  The figure is its wall time.
#   - pooltag search CORE VALUE: the blob heap's address, aligned 8-byte
#     words, every region (its `searched` bytes: every byte of memory the
#     core holds); the figure is searched bytes / wall time, the whole run
#     (open, classify, scan, name the hits) included.  --string TEXT: the
#     same bytes with memmem.
#   - the baseline: a C program (compiled here with -O2) that maps the core
#     file and runs glibc's memmem for the same 8 bytes over all of it
#     (every alignment, headers included), counting hits.  The ratio is
#     pooltag's throughput over the baseline's.
# Exit status 0 both targets met, 1 a target missed, 2 usage or setup error.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pooltag=${POOLTAG:-$here/build/src/cli/pooltag}
fixture=$here/build/tests/fixtures/useheap_svc
mb=2000
runs=5
dir=/tmp
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --pooltag) pooltag=$2; shift 2 ;;
        --mb) mb=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "dumps_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $runs in ''|*[!0-9]*|0) echo "dumps_bench.sh: --runs wants a number >= 1" >&2; exit 2 ;; esac
case $mb in ''|*[!0-9]*|0) echo "dumps_bench.sh: --mb wants a number >= 1" >&2; exit 2 ;; esac
[ -x "$pooltag" ] || { echo "dumps_bench.sh: no pooltag at $pooltag (build first)" >&2; exit 2; }
[ -x "$fixture" ] || { echo "dumps_bench.sh: no $fixture (build first)" >&2; exit 2; }
command -v gcore >/dev/null || { echo "dumps_bench.sh: gcore (gdb) not installed" >&2; exit 2; }
[ -d "$dir" ] || { echo "dumps_bench.sh: no directory $dir" >&2; exit 2; }

work=$(mktemp -d "$dir/pt_dumps_bench_XXXXXX")
pid=
cleanup() {
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    if [ "$keep" = 1 ]; then
        echo "dumps_bench: kept $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# The baseline: memmem over the whole file.
cat >"$work/memmem_pass.c" <<'EOF'
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    uint64_t v = strtoull(argv[2], NULL, 0);
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return 2;
    const uint8_t *b = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (b == MAP_FAILED)
        return 2;
    size_t n = (size_t)st.st_size, hits = 0;
    const uint8_t *q = b, *end = b + n;
    while ((size_t)(end - q) >= 8 && (q = memmem(q, (size_t)(end - q), &v, 8))) {
        hits++;
        q++;
    }
    printf("%zu\n", hits);
    return 0;
}
EOF
cc -O2 -o "$work/memmem_pass" "$work/memmem_pass.c"

now_ns() { date +%s%N; }

# time_runs VAR CMD...: run CMD once untimed, then $runs times; VAR gets
# "median min max" in microseconds.
time_runs() {
    local var=$1 t0 t1 rc
    shift
    "$@" >/dev/null 2>&1 || true
    local times=()
    for _ in $(seq "$runs"); do
        t0=$(now_ns)
        rc=0
        "$@" >/dev/null 2>&1 || rc=$?
        t1=$(now_ns)
        [ "$rc" -le 1 ] || { echo "dumps_bench.sh: '$*' failed (exit $rc)" >&2; exit 2; }
        times+=($(( (t1 - t0) / 1000 )))
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    printf -v "$var" '%s %s %s' "$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted")" \
        "$(head -1 <<<"$sorted")" "$(tail -1 <<<"$sorted")"
}

# sec US: microseconds as seconds.
sec() { awk -v u="$1" 'BEGIN{printf "%.3f", u/1e6}'; }
# gbps BYTES US: GB/s (10^9 bytes per second).
gbps() { awk -v b="$1" -v u="$2" 'BEGIN{printf "%.2f", b/1e3/u}'; }

# ---- the core -----------------------------------------------------------
echo "dumps_bench: growing useheap_svc's blob heap to $mb MiB ..." >&2
"$fixture" "$work/ready" "$mb" &
pid=$!
for _ in $(seq 1200); do
    [ -s "$work/ready" ] && break
    kill -0 "$pid" 2>/dev/null || { echo "dumps_bench.sh: useheap_svc died" >&2; exit 2; }
    sleep 0.1
done
[ -s "$work/ready" ] || { echo "dumps_bench.sh: useheap_svc never became ready" >&2; exit 2; }
read -r _ blob <"$work/ready"
gcore -o "$work/core" "$pid" >"$work/gcore.log" 2>&1 || { cat "$work/gcore.log" >&2; exit 2; }
core=$work/core.$pid
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
size=$(stat -c %s "$core")
searched=$("$pooltag" search --json --max 0 "$core" "$blob" | python3 -c 'import json,sys; print(json.load(sys.stdin)["searched"])')
echo "dumps_bench: core of $((size >> 20)) MiB ($((searched >> 20)) MiB of memory in it), warm cache, $runs runs, median (min..max)" >&2

status=0
# ---- address --------------------------------------------------------------
time_runs t "$pooltag" address "$core"
read -r med lo hi <<<"$t"
verdict=PASS
[ "$med" -lt 1000000 ] || { verdict=MISS; status=1; }
printf '  %-34s %8s s  (%s..%s)          target < 1 s: %s\n' "pooltag address CORE" \
    "$(sec "$med")" "$(sec "$lo")" "$(sec "$hi")" "$verdict"

# ---- search ---------------------------------------------------------------
time_runs t "$pooltag" search "$core" "$blob"
read -r smed slo shi <<<"$t"
time_runs t "$pooltag" search --string useheap-request-19990 "$core"
read -r tmed tlo thi <<<"$t"
time_runs t "$work/memmem_pass" "$core" "$blob"
read -r bmed blo bhi <<<"$t"
verdict=PASS
awk -v b="$searched" -v u="$smed" 'BEGIN{exit !(b/1e3/u >= 1.0)}' || { verdict=MISS; status=1; }
printf '  %-34s %8s s  %6s GB/s (%s..%s GB/s)  target >= 1 GB/s: %s\n' \
    "pooltag search CORE $blob" "$(sec "$smed")" "$(gbps "$searched" "$smed")" \
    "$(gbps "$searched" "$shi")" "$(gbps "$searched" "$slo")" "$verdict"
printf '  %-34s %8s s  %6s GB/s (%s..%s GB/s)\n' "pooltag search --string (20 bytes)" \
    "$(sec "$tmed")" "$(gbps "$searched" "$tmed")" "$(gbps "$searched" "$thi")" "$(gbps "$searched" "$tlo")"
printf '  %-34s %8s s  %6s GB/s (%s..%s GB/s)\n' "baseline: memmem over the file" \
    "$(sec "$bmed")" "$(gbps "$size" "$bmed")" "$(gbps "$size" "$bhi")" "$(gbps "$size" "$blo")"
printf '  ratio search/memmem throughput: %s (number), %s (string)\n' \
    "$(awk -v a="$searched" -v ta="$smed" -v b="$size" -v tb="$bmed" 'BEGIN{printf "%.2f", (a/ta)/(b/tb)}')" \
    "$(awk -v a="$searched" -v ta="$tmed" -v b="$size" -v tb="$bmed" 'BEGIN{printf "%.2f", (a/ta)/(b/tb)}')"

exit "$status"
