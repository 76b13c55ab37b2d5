#!/usr/bin/env bash
# bench/age_cost.sh [--rounds N] [--instructions] BASE_BUILD HEAD_BUILD
#
# What the age epochs (issue 15) cost the fast paths: the counters-only
# ratios of bench/alloc_bench (pooltag over the bare allocator, library and
# preload, 1 thread) of two builds — BASE without age epochs (e.g. a release
# build of the commit before them), HEAD with them — run alternately in the
# same sitting, so that both see the same machine.  Prints per ratio the
# median over rounds for each build with its spread (min-max), and HEAD's
# growth over BASE; with --instructions also callgrind's instructions per
# free + malloc of each build (deterministic: the figure to trust on a
# noisy machine).  The budget (issue 15): the ratio may grow by 3 % at most.
#
# Exit status: 0 (a benchmark does not fail), 2 on a usage error or when a
# build has no alloc_bench.
set -euo pipefail
rounds=5
instr=0
usage() { echo "usage: bench/age_cost.sh [--rounds N] [--instructions] BASE_BUILD HEAD_BUILD" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
        --instructions) instr=1; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) usage ;;
        *) break ;;
    esac
done
[ $# -eq 2 ] || usage
case $rounds in ''|*[!0-9]*) usage ;; esac
[ "$rounds" -ge 1 ] && [ "$rounds" -le 50 ] || usage
base=$1 head=$2
for b in "$base" "$head"; do
    if [ ! -x "$b/bench/alloc_bench" ] || [ ! -f "$b/src/preload/libpooltag-preload.so" ]; then
        echo "bench/age_cost.sh: $b has no bench/alloc_bench or preload (a release build with the benchmarks)" >&2
        exit 2
    fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ratios="pooltag-mi / mimalloc, 1 thread|preload-mi / mimalloc.so, 1 thread|pooltag-libc / glibc, 1 thread|preload-libc / glibc-malloc, 1 thread"
run() { # build label round
    "$1/bench/alloc_bench" --rounds 3 --ops 1000000 --preload "$1/src/preload/libpooltag-preload.so" \
        > "$work/$2.$3" 2>/dev/null || true
}
for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then run "$base" base "$r"; run "$head" head "$r"
    else run "$head" head "$r"; run "$base" base "$r"; fi
done
stats() { # label ratio-name -> "median min max"
    cat "$work/$1".* | awk -v want="$2" 'index($0, want) == 1 { sub(want, ""); print $1 }' |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}
printf '%-40s %22s %22s %8s\n' "CPU-time ratio (median of $rounds, min-max)" "base" "head" "growth"
IFS='|'
for name in $ratios; do
    IFS=" " read -r bm bl bh <<<"$(stats base "$name")"
    IFS=" " read -r hm hl hh <<<"$(stats head "$name")"
    g=$(awk -v b="$bm" -v h="$hm" 'BEGIN { if (b + 0 > 0) printf "%+.1f%%", (h / b - 1) * 100; else print "-" }')
    printf '%-40s %7s (%5s-%5s) %7s (%5s-%5s) %8s\n' "$name" "$bm" "$bl" "$bh" "$hm" "$hl" "$hh" "$g"
done
unset IFS
if [ "$instr" = 1 ]; then
    for b in base head; do
        dir=$base; [ $b = head ] && dir=$head
        "$dir/bench/alloc_bench" --quick --instructions --preload "$dir/src/preload/libpooltag-preload.so" \
            > "$work/instr.$b" 2>/dev/null || true
    done
    printf '\n%-28s %10s %10s %8s\n' "instructions per free+malloc" base head growth
    for c in mimalloc pooltag-mi glibc pooltag-libc mimalloc.so preload-mi glibc-malloc preload-libc; do
        bi=$(awk -v c="$c" '/^instructions per operation/ { on = 1 } on && $1 == c { print $2; exit }' "$work/instr.base")
        hi=$(awk -v c="$c" '/^instructions per operation/ { on = 1 } on && $1 == c { print $2; exit }' "$work/instr.head")
        g=$(awk -v b="${bi:-0}" -v h="${hi:-0}" 'BEGIN { if (b > 0) printf "%+.1f%%", (h / b - 1) * 100; else print "-" }')
        printf '%-28s %10s %10s %8s\n' "$c" "${bi:--}" "${hi:--}" "$g"
    done
fi
