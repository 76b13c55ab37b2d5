#!/usr/bin/env bash
# bench/find_bench.sh — `pooltag find` against `grep -rlF` over the same
# tree, in one run (issue 5: no worse than 1.5x grep's time).
#
#   bench/find_bench.sh [--pooltag PATH] [--tag TAG] [--runs N] [DIR]
#
# DIR defaults to /usr/lib/x86_64-linux-gnu (or the multiarch library
# directory of this machine).  Warm cache: each command runs once untimed,
# then N times (default 3) timed; the median wall time of each is compared.
#
# What is compared, honestly:
#   - grep -rlF (LC_ALL=C) prints the names of files that contain the tag's
#     four bytes, stops reading a file at its first hit, reads every file
#     (ELF or not) and does not follow symbolic links in the walk;
#   - pooltag find TAG DIR (the default) reads only ELF files (it checks the
#     magic on the first block and drops the rest), stops pass 1 at a file's
#     first hit like grep -l, then maps each file with a hit and finds, names
#     and classifies every hit in it (libelf) — more work per hit file;
#   - pooltag find --all-files reads every file, like grep.
# The ratio that passes or misses the target is the default `find` over
# grep; the --all-files ratio is printed beside it.  Output is discarded
# (>/dev/null) for all commands.  Exit status 0 PASS, 1 MISS, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
pooltag=${POOLTAG:-$here/build/src/cli/pooltag}
tag=Leak
runs=3
dir=
while [ $# -gt 0 ]; do
    case $1 in
        --pooltag) pooltag=$2; shift 2 ;;
        --tag) tag=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "find_bench.sh: unknown option $1" >&2; exit 2 ;;
        *) dir=$1; shift ;;
    esac
done
case $runs in ''|*[!0-9]*|0) echo "find_bench.sh: --runs wants a number >= 1" >&2; exit 2 ;; esac
if [ -z "$dir" ]; then
    dir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
fi
[ -d "$dir" ] || { echo "find_bench.sh: no directory $dir" >&2; exit 2; }
[ -x "$pooltag" ] || { echo "find_bench.sh: no pooltag at $pooltag (build first)" >&2; exit 2; }
# The tag's four bytes as grep's fixed string (printable tags only).
case $tag in *[!A-Za-z0-9]*|'') echo "find_bench.sh: --tag wants 4 letters/digits" >&2; exit 2 ;; esac
[ ${#tag} = 4 ] || { echo "find_bench.sh: --tag wants exactly 4 characters" >&2; exit 2; }

# now_ns: wall clock in nanoseconds.
now_ns() { date +%s%N; }

# time_median NAME CMD...: median wall seconds of $runs runs after a warm-up.
time_median() {
    local name=$1 t0 t1 rc
    shift
    "$@" >/dev/null 2>&1 || true
    local times=()
    for _ in $(seq "$runs"); do
        t0=$(now_ns)
        rc=0
        "$@" >/dev/null 2>&1 || rc=$?
        t1=$(now_ns)
        # grep: 0 match, 1 none, 2 unreadable files; pooltag: 0, 1.
        [ "$rc" -le 2 ] || { echo "find_bench.sh: $name failed (exit $rc)" >&2; exit 2; }
        times+=($(( (t1 - t0) / 1000 )))
    done
    local sorted
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    local med
    med=$(sed -n "$(( (runs + 1) / 2 ))p" <<<"$sorted")
    printf '%s' "$med"
    printf '  %-28s median %8.3f s  (runs: %s)\n' "$name" "$(awk -v u="$med" 'BEGIN{print u/1e6}')" \
        "$(printf '%s ' "${times[@]}" | awk '{for(i=1;i<=NF;i++) printf "%.3f ", $i/1e6}')" >&2
}

summary=$("$pooltag" find "$tag" "$dir" 2>/dev/null | tail -1 || true)
bytes=$(du -sb "$dir" | cut -f1)
echo "find_bench: tag '$tag' over $dir ($((bytes >> 20)) MiB); warm cache, median of $runs runs" >&2
echo "  pooltag's count: $summary" >&2

g=$(LC_ALL=C time_median "LC_ALL=C grep -rlF $tag DIR" grep -rlF -- "$tag" "$dir")
p=$(time_median "pooltag find $tag DIR" "$pooltag" find "$tag" "$dir")
a=$(time_median "pooltag find --all-files" "$pooltag" find --all-files "$tag" "$dir")

# A live process: notmyfault, if built beside this pooltag.
nmf=${NOTMYFAULT:-$(dirname "$(dirname "$(dirname "$pooltag")")")/demo/notmyfault}
if [ -x "$nmf" ]; then
    "$nmf" --quiet --leak paged --rate 64K --duration 60 &
    npid=$!
    trap 'kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null' EXIT
    for _ in $(seq 50); do
        grep -q 'memfd:pooltag' "/proc/$npid/maps" 2>/dev/null && break
        sleep 0.1
    done
    time_median "pooltag find $tag PID" "$pooltag" find "$tag" "$npid" >/dev/null
    "$pooltag" find -c "$tag" "$npid" 2>/dev/null | grep '^code' | sed 's/^/    /' >&2 || true
fi

ratio=$(awk -v p="$p" -v g="$g" 'BEGIN{printf "%.2f", p/g}')
ratio_all=$(awk -v p="$a" -v g="$g" 'BEGIN{printf "%.2f", p/g}')
verdict=$(awk -v r="$ratio" 'BEGIN{print (r <= 1.5) ? "PASS" : "MISS"}')
echo "find_bench: pooltag find / grep -rlF = $ratio (target <= 1.5): $verdict;" \
    "--all-files / grep -rlF = $ratio_all"
[ "$verdict" = PASS ]
