#!/usr/bin/env bash
# bench/heap_bench.sh — `pooltag heap --stat` speed (issue 13, item 8: at
# least 200 MB/s of scanned heap, and a live target stopped no longer than
# the scan needs).
#
#   bench/heap_bench.sh [--pooltag PATH] [--heapfix PATH] [--mib N] [--runs N]
#
# tests/heapfix big N fills its main arena with N MiB (default 1024) of
# 64-byte blocks (80-byte chunks); the bench gcores it, then runs
# `pooltag heap --stat` N times (default 5) on the core and on the live
# process (stopped, the default), and prints for each the median wall time
# with its spread (min..max), the throughput over the scanned heap (the
# arenas' committed bytes) and, live, the median pause the process saw
# (stopped_ns).  Baseline in the same run: reading the core's bytes once
# (cat >/dev/null, warm cache), printed as the walk's time over that read.
# Exit status 0 PASS (both >= 200 MB/s), 1 MISS, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pooltag=${POOLTAG:-$here/build/src/cli/pooltag}
heapfix=$here/build/tests/heapfix
mib=1024
runs=5
while [ $# -gt 0 ]; do
    case $1 in
        --pooltag) pooltag=$2; shift 2 ;;
        --heapfix) heapfix=$2; shift 2 ;;
        --mib) mib=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "heap_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $runs$mib in ''|*[!0-9]*) echo "heap_bench.sh: --runs and --mib want numbers" >&2; exit 2 ;; esac
command -v gcore >/dev/null || { echo "heap_bench.sh: gcore (gdb) is needed" >&2; exit 2; }

T=$(mktemp -d /tmp/heap_bench_XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
"$heapfix" big "$mib" >"$T/out" &
pid=$!
for _ in $(seq 1200); do grep -q '^ready$' "$T/out" && break; sleep 0.1; done
grep -q '^ready$' "$T/out" || { echo "heap_bench.sh: heapfix never became ready" >&2; exit 2; }
gcore -o "$T/core" "$pid" >/dev/null 2>&1
core=$T/core.$pid
scanned=$("$pooltag" heap --json "$core" | /usr/bin/python3 -c 'import json,sys; print(sum(h.get("committed", 0) for h in json.load(sys.stdin)["heaps"] if "arena" in h["kind"]))')

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%.0f %.0f %.0f\n", a[int((NR+1)/2)], a[1], a[NR]}'; }
cat "$core" >/dev/null
t0=$(now); cat "$core" >/dev/null; t1=$(now); base_ns=$((t1 - t0))

"$pooltag" heap --stat "$core" >/dev/null
for _ in $(seq "$runs"); do
    t0=$(now); "$pooltag" heap --stat "$core" >/dev/null; t1=$(now); echo $((t1 - t0))
done | median >"$T/core.t"
for _ in $(seq "$runs"); do
    t0=$(now); "$pooltag" heap --stat --json "$pid" >"$T/live.json"; t1=$(now)
    echo "$((t1 - t0)) $(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stopped_ns"])' "$T/live.json")"
done >"$T/live.raw"
cut -d' ' -f1 "$T/live.raw" | median >"$T/live.t"
cut -d' ' -f2 "$T/live.raw" | median >"$T/pause.t"

read -r cm cmin cmax <"$T/core.t"
read -r lm lmin lmax <"$T/live.t"
read -r pm pmin pmax <"$T/pause.t"
mbs() { awk -v b="$scanned" -v ns="$1" 'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }'; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }
echo "heap --stat over $((scanned / 1048576)) MiB of arenas ($mib MiB of 64-byte blocks), median of $runs"
echo "  core: $(ms "$cm") ms (min $(ms "$cmin") .. max $(ms "$cmax")) = $(mbs "$cm") MB/s; $(awk -v a="$cm" -v b="$base_ns" 'BEGIN{printf "%.1f", a/b}')x the time of reading the core once ($(ms "$base_ns") ms)"
echo "  live: $(ms "$lm") ms (min $(ms "$lmin") .. max $(ms "$lmax")) = $(mbs "$lm") MB/s; process stopped $(ms "$pm") ms (min $(ms "$pmin") .. max $(ms "$pmax"))"
ok=1
[ "$(mbs "$cm")" -ge 200 ] || ok=0
[ "$(mbs "$lm")" -ge 200 ] || ok=0
if [ $ok = 1 ]; then echo "PASS (target: >= 200 MB/s)"; else echo "MISS (target: >= 200 MB/s)"; exit 1; fi
