#!/usr/bin/env bash
# bench/trend_bench.sh — `pooltag trend` speed on a large counter log
# (issue 15, item 6: a log of 1,000,000 samples judged in under 2 s and
# 200 MB).
#
#   bench/trend_bench.sh [--pooltag PATH] [--samples N] [--tags K] [--runs R]
#                        [--version 1|2]
#
# "Sample" means one row of the sample table: the log holds 1 process x N
# samples (default 1,000,000, one a second: 11.6 days) x K tag rows each
# (default 3: a leak, a load, a steady tag; tests/trend_gen.py --bench),
# format version 2 (each row with its interval extremes) unless --version
# 1.  The log is generated once and cached in build/bench-cache/ (reused
# while tests/trend_gen.py is unchanged).  Then `pooltag trend LOG` runs R
# times (default 5) under /usr/bin/time, and the script prints the median
# wall time, the median CPU time (user + system) and the largest maximum
# RSS, each with its ratio to the target (2 s, 200 MB).
# Exit status 0 PASS (median wall < 2 s and RSS < 200 MB), 1 MISS, 2 usage
# or a failed run.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pooltag=${POOLTAG:-$here/build/src/cli/pooltag}
samples=1000000
tags=3
runs=5
version=2
cache=${PT_BENCH_CACHE:-$here/build/bench-cache}
die() { echo "trend_bench: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --pooltag) [ $# -ge 2 ] || die "--pooltag needs a value"; pooltag=$2; shift 2 ;;
        --samples) [ $# -ge 2 ] || die "--samples needs a value"; samples=$2; shift 2 ;;
        --tags) [ $# -ge 2 ] || die "--tags needs a value"; tags=$2; shift 2 ;;
        --runs) [ $# -ge 2 ] || die "--runs needs a value"; runs=$2; shift 2 ;;
        --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
for v in "$samples" "$tags" "$runs"; do
    case $v in ''|*[!0-9]*|0) die "--samples, --tags and --runs want positive numbers" ;; esac
done
case $version in 1|2) ;; *) die "--version is 1 or 2" ;; esac
[ -x "$pooltag" ] || die "no pooltag at $pooltag (build first, or --pooltag PATH)"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (Debian package time)"
command -v python3 >/dev/null || die "python3 is needed"

gen=$here/tests/trend_gen.py
mkdir -p "$cache"
sum=$(md5sum <"$gen" | cut -c1-8)
log=$cache/trend-v$version-$samples-$tags-$sum.db
if [ ! -s "$log" ]; then
    echo "generating $log (once) ..."
    rm -f "$log" "$log-wal" "$log-shm"
    python3 "$gen" "$log.tmp" --bench "$samples" --tags "$tags" --version "$version" ||
        die "trend_gen.py failed"
    mv "$log.tmp" "$log"
fi

T=$(mktemp -d /tmp/trend_bench_XXXXXX)
trap 'rm -rf "$T"' EXIT
for i in $(seq "$runs"); do
    /usr/bin/time -f "%e %U %S %M" -o "$T/time.$i" "$pooltag" trend "$log" >"$T/out.$i" ||
        die "pooltag trend exited $? on run $i"
done
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
wall=$(cat "$T"/time.* | awk '{print $1}' | median)
cpu=$(cat "$T"/time.* | awk '{print $2 + $3}' | median)
rss=$(cat "$T"/time.* | awk '{print $4}' | sort -n | tail -1)
series=$(grep -c '^ [a-z-]\+ ' "$T/out.1" || true)
echo "pooltag trend: 1 process x $samples samples x $tags tags (format $version), $series series, $runs runs"
printf "%-10s %10s %10s %8s\n" "" "median" "target" "ratio"
awk -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
    printf "%-10s %9.2fs %9.2fs %8.2f\n", "wall", w, 2, w / 2
    printf "%-10s %9.2fs %9.2fs %8.2f\n", "cpu", c, 2, c / 2
    printf "%-10s %8.1fMB %8.0fMB %8.2f\n", "max RSS", r / 1024, 200, r / 1024 / 200 }'
if awk -v w="$wall" -v r="$rss" 'BEGIN {exit !(w < 2 && r / 1024 < 200)}'; then
    echo "PASS"
else
    echo "MISS"
    exit 1
fi
