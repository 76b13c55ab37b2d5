#!/usr/bin/env bash
# bench/leaks_bench.sh — `pooltag leaks` speed (issue 13 item 8: at least
# 200 MB/s of scanned memory; a live target stopped no longer than the
# scan needs).
#
#   bench/leaks_bench.sh [--pooltag PATH] [--requests N] [--runs N]
#
# The target is tests/fixtures/cxxleak (built with the tests) after N
# requests (default 2,000,000: ~290,000 leaked Session objects among the
# blocks), untagged (glibc's heap).  Measured in one run:
#   - baseline: reading the gcore file once (cat > /dev/null, page cache
#     warm): the memory bandwidth the scan competes with;
#   - leaks on the core: read_bytes / scan_ns from --json (every byte read
#     and looked at: roots, heap regions), and the wall time of the command;
#   - leaks on the live process: the same, and stopped_ns, the pause, which
#     must not exceed the scan by more than the stop and resume themselves.
# Each measure runs --runs times (default 5) after one untimed run; the
# median is printed with the min and max.  Exit status 0 PASS (>= 200 MB/s
# on the core and live), 1 MISS, 2 usage or setup error.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pooltag=${POOLTAG:-$here/build/src/cli/pooltag}
fix=${PT_FIXTURES:-$here/build/tests/fixtures}/cxxleak
requests=2000000
runs=5
while [ $# -gt 0 ]; do
    case $1 in
        --pooltag) pooltag=$2; shift 2 ;;
        --requests) requests=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "leaks_bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case $runs in ''|*[!0-9]*|0) echo "leaks_bench.sh: --runs wants a number >= 1" >&2; exit 2 ;; esac
[ -x "$pooltag" ] || { echo "leaks_bench.sh: no pooltag at $pooltag (build first)" >&2; exit 2; }
[ -x "$fix" ] || { echo "leaks_bench.sh: no $fix (build the tests)" >&2; exit 2; }
command -v gcore >/dev/null || { echo "leaks_bench.sh: gcore (gdb) needed" >&2; exit 2; }

T=$(mktemp -d /tmp/pt_leaks_bench_XXXXXX)
pid=
cleanup() { exec 9>&- 2>/dev/null || true; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkfifo "$T/in"
"$fix" "$requests" <"$T/in" >"$T/out" &
pid=$!
exec 9>"$T/in"
for _ in $(seq 600); do grep -q ready "$T/out" && break; sleep 0.1; done
grep -q ready "$T/out" || { echo "leaks_bench.sh: cxxleak never became ready" >&2; exit 2; }
gcore -o "$T/core" "$pid" >/dev/null 2>&1 || { echo "leaks_bench.sh: gcore failed" >&2; exit 2; }
core=$T/core.$pid

now_ns() { date +%s%N; }
# stats V...: "median (min .. max)"
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.0f (%.0f .. %.0f)", m, v[1], v[NR]}'; }
jf() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

size=$(stat -c %s "$core")
cat "$core" >/dev/null
base=() ; crate=() ; cwall=() ; lrate=() ; lpause=() ; lscan=()
for _ in $(seq "$runs"); do
    t0=$(now_ns); cat "$core" >/dev/null; t1=$(now_ns)
    base+=("$(awk -v b="$size" -v t=$((t1 - t0)) 'BEGIN {print b * 1000 / t}')")
done
"$pooltag" leaks --json "$core" >/dev/null
for _ in $(seq "$runs"); do
    t0=$(now_ns); "$pooltag" leaks --json "$core" >"$T/c.json"; t1=$(now_ns)
    crate+=("$(jf "$T/c.json" 'd["read_bytes"] * 1000 / d["scan_ns"]')")
    cwall+=("$(( (t1 - t0) / 1000000 ))")
done
for _ in $(seq "$runs"); do
    "$pooltag" leaks --json "$pid" >"$T/l.json"
    lrate+=("$(jf "$T/l.json" 'd["read_bytes"] * 1000 / d["scan_ns"]')")
    lpause+=("$(jf "$T/l.json" 'd["stopped_ns"] / 1e6')")
    lscan+=("$(jf "$T/l.json" 'd["scan_ns"] / 1e6')")
done
blocks=$(jf "$T/c.json" 'd["blocks"]')
leaked=$(jf "$T/c.json" 'd["leaked_blocks"]')
readmb=$(jf "$T/c.json" 'round(d["read_bytes"] / 1e6, 1)')
echo "cxxleak $requests requests: $blocks blocks, $leaked leaked; core $((size / 1000000)) MB, $readmb MB read by the scan"
echo "baseline cat core:        $(stats "${base[@]}") MB/s"
echo "leaks on the core:        $(stats "${crate[@]}") MB/s (wall $(stats "${cwall[@]}") ms)"
echo "leaks live:               $(stats "${lrate[@]}") MB/s; scan $(stats "${lscan[@]}") ms, stopped $(stats "${lpause[@]}") ms"
cm=$(stats "${crate[@]}" | awk '{print $1}')
lm=$(stats "${lrate[@]}" | awk '{print $1}')
bm=$(stats "${base[@]}" | awk '{print $1}')
awk -v c="$cm" -v b="$bm" 'BEGIN {printf "ratio core scan / cat:   %.2f\n", c / b}'
if awk -v c="$cm" -v l="$lm" 'BEGIN {exit !(c >= 200 && l >= 200)}'; then
    echo "PASS (target: >= 200 MB/s)"
else
    echo "MISS (target: >= 200 MB/s)"
    exit 1
fi
