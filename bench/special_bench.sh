#!/usr/bin/env bash
# special_bench.sh — what the special pool, sampled guard pages and fault
# injection cost (issue 12 item 7), in one run:
#
#  (a) switched off: the counters-only preload of this tree (pt-off) against
#      the one of the branch point before issue 12 (pt-base, $PT_BASE);
#      target pt-off / pt-base <= 1.01;
#  (b) sampled guard pages, PT_SAMPLE_GUARD=5000 (pt-sample) against
#      pt-off; target <= 1.02;
#      both on the reference workload ../shared/bench/alloc_bench.c (T
#      threads, OPS malloc/free per thread over a sliding window of 1,000
#      live blocks, sizes 8 B-64 KiB) through the preload, and on
#      redis-benchmark (a fixed number of requests, 127.0.0.1) against a
#      redis-server under the preload (r-base, r-off, r-sample: the
#      server's CPU time);
#  (c) the special pool for every allocation (PT_SPECIAL=0-1G,
#      PT_SPECIAL_MAX_PAGES=65536: pt-special) on a small run of the
#      workload (SMALL_OPS operations, 1 thread) against electric-fence
#      (LD_PRELOAD=libefence.so), DUMA (libduma.so) and plain glibc, with
#      the maximum RSS; target efence / pt-special >= 10.
#
# Every configuration of a part runs once per round, in an order that
# rotates from round to round.  A figure is the median over the rounds of
# the per-round ratio, with its range [lowest-highest]; the targets are
# decided on CPU time (user + system of the measured process: its own
# rusage from wait4, and for redis the server's from /proc/PID/stat).
#
# Usage: bench/special_bench.sh [--rounds N] [--ops N] [--threads "1 2"]
#          [--requests N] [--small-ops N] [--small-rounds N] [--quick]
#          [--only a,b,redis,c]
# Environment: PT_BUILD (build tree, default build-release/ if it has the
# preload, else build/), PT_BASE (build tree of the branch point, default
# /tmp/base12/build-release: git worktree add /tmp/base12 fe775b7, then a
# release build there), PT_SHARED (default ../shared beside the project).
# Exits 0 whatever the numbers; 1 when a run failed; 2 on bad usage or when
# something it needs is missing.
set -u
usage() {
    cat <<'EOF'
usage: special_bench.sh [--rounds N] [--ops N] [--threads "1 2"] [--requests N]
                        [--small-ops N] [--small-rounds N] [--quick] [--only LIST]
  --rounds N        rounds of (a), (b) and redis (default 7)
  --ops N           malloc/free operations per thread in (a), (b) (default 2000000)
  --threads LIST    thread counts of (a), (b) (default "1 2")
  --requests N      redis-benchmark requests per test (default 50000)
  --small-ops N     operations of the small run of (c) (default 10000)
  --small-rounds N  rounds of (c) (default 3; electric-fence and DUMA are slow)
  --quick           1 round, 200000 ops, 20000 requests, 2000 small ops
  --only LIST       parts to run, from: ab (a and b on the workload), redis, c
EOF
}
rounds=7 ops=2000000 threads="1 2" requests=50000 sops=10000 srounds=3 only="ab,redis,c"
window=1000 leak=16
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=${2:-}; shift 2 ;;
        --ops) ops=${2:-}; shift 2 ;;
        --threads) threads=${2:-}; shift 2 ;;
        --requests) requests=${2:-}; shift 2 ;;
        --small-ops) sops=${2:-}; shift 2 ;;
        --small-rounds) srounds=${2:-}; shift 2 ;;
        --quick) rounds=1 ops=200000 requests=20000 sops=2000 srounds=1; shift ;;
        --only) only=${2:-}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "special_bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
posint() { case $2 in ''|*[!0-9]*|0*) echo "special_bench.sh: $1 wants a positive number, not '$2'" >&2; exit 2 ;; esac; }
posint --rounds "$rounds"
posint --ops "$ops"
posint --requests "$requests"
posint --small-ops "$sops"
posint --small-rounds "$srounds"
[ -n "$threads" ] || { echo "special_bench.sh: --threads wants a list of thread counts" >&2; exit 2; }
for t in $threads; do posint --threads "$t"; done
part_ab=0 part_redis=0 part_c=0
for p in ${only//,/ }; do
    case $p in
        ab) part_ab=1 ;; redis) part_redis=1 ;; c) part_c=1 ;;
        *) echo "special_bench.sh: --only: unknown part '$p' (ab, redis, c)" >&2; exit 2 ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
if [ -z "${PT_BUILD:-}" ]; then
    PT_BUILD=$src/build
    [ -f "$src/build-release/src/preload/libpooltag-preload.so" ] && PT_BUILD=$src/build-release
fi
PT_BASE=${PT_BASE:-/tmp/base12/build-release}
PT_SHARED=${PT_SHARED:-$src/../shared}
WORKLOAD=$PT_SHARED/bench/alloc_bench.c
PRELOAD=$PT_BUILD/src/preload/libpooltag-preload.so
BASE_PRELOAD=$PT_BASE/src/preload/libpooltag-preload.so
EFENCE=${EFENCE:-/usr/lib/libefence.so}
DUMA=${DUMA:-/usr/lib/libduma.so}
SPECIAL_ENV=(PT_SPECIAL=0-1G PT_SPECIAL_MAX_PAGES=65536)

die() { echo "special_bench.sh: $*" >&2; exit 2; }
[ -f "$WORKLOAD" ] || die "the reference workload $WORKLOAD is missing (set PT_SHARED)"
[ -f "$PRELOAD" ] || die "$PRELOAD not built (make release, or set PT_BUILD)"
command -v gcc >/dev/null || die "gcc is missing"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || die "python3 is missing"

B=$(mktemp -d /tmp/pt_special_bench_XXXXXX)
REDIS_PID=
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
    rm -rf "$B"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_s=$(date +%s)
gcc -O2 -pthread -o "$B/alloc_bench" "$WORKLOAD" || die "cannot compile $WORKLOAD"

# Which rows can run: each missing piece turns its rows into "n/a (why)".
declare -A NA
[ -f "$BASE_PRELOAD" ] ||
    NA[pt-base]="not built: git worktree add /tmp/base12 fe775b7 and build release there (or set PT_BASE)"
NA[r-base]=${NA[pt-base]:-}
[ -z "${NA[r-base]}" ] && unset 'NA[r-base]'
[ -f "$EFENCE" ] || NA[efence]="$EFENCE missing (Debian electric-fence: scripts/deps.sh)"
[ -f "$DUMA" ] || NA[duma]="$DUMA missing (Debian duma: scripts/deps.sh)"
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    NA[r-base]="redis-server or redis-benchmark not installed (scripts/deps.sh)"
    NA[r-off]=${NA[r-base]}
    NA[r-sample]=${NA[r-base]}
fi
# Does this build place blocks in the special pool?  A 100-byte block of
# the pool ends at its page's end (rounded to 16).
cat >"$B/probe.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
    char *volatile p = malloc(100);
    printf("%s\n", (((uintptr_t)p + 100 + 15) & 4095) < 16 ? "special" : "normal");
    return 0;
}
EOF
gcc -O0 -o "$B/probe" "$B/probe.c" || die "cannot compile the probe"
if [ "$(env LD_PRELOAD="$PRELOAD" "${SPECIAL_ENV[@]}" "$B/probe")" != special ]; then
    NA[pt-special]="not built: PT_SPECIAL places no block in this build"
    NA[pt-sample]=${NA[pt-special]}
    NA[r-sample]=${NA[pt-special]}
fi

echo "special_bench: the special pool, sampled guard pages, fault injection; order rotated each round"
echo "  workload  $WORKLOAD: ops=$ops per thread, window=$window, leak=$leak; small run: $sops ops, 1 thread"
echo "  preload   $PRELOAD ($(git -C "$src" log -1 --format='%h' 2>/dev/null))"
echo "  base      $PT_BASE ($(git -C "$PT_BASE" log -1 --format='%h %s' 2>/dev/null | cut -c1-60 || echo missing))"
for v in $(compgen -e | grep '^PT_' | grep -vE '^PT_(BUILD|BASE|SHARED)$' || true); do
    echo "  environment: $v=${!v}"
done
echo "  machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for c in pt-base pt-sample pt-special efence duma r-base r-off r-sample; do
    [ -n "${NA[$c]:-}" ] && echo "  $c: n/a (${NA[$c]})"
done

# The runner: runs a command (stdout, stderr to files) and prints
# "wall_s cpu_s maxrss_kB status" of that child alone (wait4's rusage).
# The maximum RSS comes from /usr/bin/time -f %M (a child forked by python
# would start with python's own RSS as its high-water mark); the CPU time
# from wait4 is time's and its child's (time itself costs next to nothing).
cat >"$B/runner.py" <<'PYEOF'
import os, subprocess, sys, time
out, err, rss = open(sys.argv[1], "wb"), open(sys.argv[2], "wb"), sys.argv[3]
t0 = time.perf_counter()
p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss] + sys.argv[4:],
                     stdout=out, stderr=err, stdin=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
t1 = time.perf_counter()
rc = os.waitstatus_to_exitcode(status)
try:
    m = int(open(rss).read().split()[-1])
except (OSError, ValueError, IndexError):
    m = 0
print("%.6f %.6f %d %d" % (t1 - t0, ru.ru_utime + ru.ru_stime, m, rc))
PYEOF
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian time: scripts/deps.sh)"

# cmd CONFIG T N: the command line of one workload run, in CMD.
cmd() {
    local c=$1 ab=("$B/alloc_bench" "$2" "$3" "$window" "$leak")
    case $c in
        glibc) CMD=(env -u LD_PRELOAD "${ab[@]}") ;;
        pt-base) CMD=(env LD_PRELOAD="$BASE_PRELOAD" "${ab[@]}") ;;
        pt-off) CMD=(env LD_PRELOAD="$PRELOAD" "${ab[@]}") ;;
        pt-sample) CMD=(env LD_PRELOAD="$PRELOAD" PT_SAMPLE_GUARD=5000 "${ab[@]}") ;;
        pt-special) CMD=(env LD_PRELOAD="$PRELOAD" "${SPECIAL_ENV[@]}" "${ab[@]}") ;;
        efence) CMD=(env LD_PRELOAD="$EFENCE" "${ab[@]}") ;;
        duma) CMD=(env LD_PRELOAD="$DUMA" "${ab[@]}") ;;
    esac
}

failed=0
# run1 ROUND CONFIG T N: one timed run; appends "CONFIG T ROUND wall cpu maxrss".
run1() {
    local r=$1 c=$2 t=$3 n=$4 w cp m rc
    cmd "$c" "$t" "$n"
    read -r w cp m rc < <("$PY" "$B/runner.py" "$B/run.out" "$B/run.err" "$B/rss" "${CMD[@]}")
    if [ "${rc:-1}" != 0 ] || ! grep -q '^threads=' "$B/run.out"; then
        echo "  FAILED: $c, $t thread(s), round $r: status ${rc:-?}: $(tail -c 300 "$B/run.err")"
        failed=1
        return 1
    fi
    echo "$c $t $r $w $cp $m" >>"$B/times"
}

# redis1 ROUND CONFIG: a redis-server under the preload (r-base, r-off,
# r-sample), redis-benchmark with $requests requests per test, then the
# server's CPU time (utime + stime of /proc/PID/stat) and max RSS (VmHWM).
port=$((20000 + $$ % 20000))
redis1() {
    local r=$1 c=$2 pl=$PRELOAD extra=() t0 t1
    case $c in
        r-base) pl=$BASE_PRELOAD ;;
        r-sample) extra=(PT_SAMPLE_GUARD=5000) ;;
    esac
    env LD_PRELOAD="$pl" "${extra[@]}" redis-server --port "$port" --bind 127.0.0.1 \
        --save '' --appendonly no --daemonize no >"$B/redis.out" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    t0=$(date +%s%N)
    if ! redis-benchmark -p "$port" -q -n "$requests" -c 20 -t set,get,incr,lpush,lpop,sadd \
        >"$B/rb.out" 2>&1; then
        echo "  FAILED: $c round $r: redis-benchmark: $(tail -c 300 "$B/rb.out")"
        failed=1
    fi
    t1=$(date +%s%N)
    local cpu hwm
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$REDIS_PID/stat" 2>/dev/null)
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$REDIS_PID/status" 2>/dev/null)
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1
    wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
    [ -n "$cpu" ] || { echo "  FAILED: $c round $r: no server CPU time"; failed=1; return 1; }
    echo "$c 1 $r $(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }') $cpu ${hwm:-0}" >>"$B/times"
}

# rounds_of N CONFIGS... then a function: rotate the order each round.
rotate() {
    local n=$1 fn=$2
    shift 2
    local cs=() c
    for c in "$@"; do [ -n "${NA[$c]:-}" ] || cs+=("$c"); done
    local nc=${#cs[@]}
    for ((r = 1; r <= n; r++)); do
        for ((i = 0; i < nc; i++)); do
            c=${cs[$(( (i + r - 1) % nc ))]}
            "$fn" "$r" "$c"
        done
        echo "  $fn round $r of $n done ($(( $(date +%s) - start_s )) s, load $(cut -d' ' -f1 /proc/loadavg))"
    done
}
ab_t=1
ab_run() { run1 "$1" "$2" "$ab_t" "$ops"; }
small_run() { run1 "$1" "$2" 1 "$sops"; }

if [ "$part_ab" = 1 ]; then
    for t in $threads; do
        ab_t=$t
        rotate "$rounds" ab_run pt-base pt-off pt-sample
    done
fi
[ "$part_redis" = 1 ] && rotate "$rounds" redis1 r-base r-off r-sample
if [ "$part_c" = 1 ]; then
    # the small run's own file: the same configuration names at 1 thread
    mv "$B/times" "$B/times.ab" 2>/dev/null
    rotate "$srounds" small_run glibc pt-special efence duma
    mv "$B/times" "$B/times.c" 2>/dev/null
    mv "$B/times.ab" "$B/times" 2>/dev/null
fi
touch "$B/times" "$B/times.c"

# stat FILE A B T COL: per-round ratios A/B (COL 4 wall, 5 cpu) at T
# threads: "median min max n", or nothing.
stat() {
    awk -v a="$2" -v b="$3" -v t="$4" -v col="$5" '
        $2 == t && $1 == a { x[$3] = $col }
        $2 == t && $1 == b { y[$3] = $col }
        END { n = 0; for (r in x) if ((r in y) && y[r] > 0) v[++n] = x[r] / y[r]
              if (!n) exit
              for (i = 2; i <= n; i++) { k = v[i]; for (j = i - 1; j >= 1 && v[j] > k; j--) v[j + 1] = v[j]; v[j + 1] = k }
              med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
              printf "%.3f %.3f %.3f %d\n", med, v[1], v[n], n }' "$1"
}
medcol() {
    awk -v c="$2" -v t="$3" -v col="$4" '$1 == c && $2 == t { print $col }' "$1" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# table FILE T REF CONFIGS...: medians and ratios to REF.
table() {
    local f=$1 t=$2 ref=$3 c
    shift 3
    printf '%-11s %3s %9s %8s %8s %-15s %8s %-15s %9s\n' config thr "wall s" "cpu s" wall "/$ref range" cpu "/$ref range" "maxRSS MB"
    for c in "$@"; do
        if [ -n "${NA[$c]:-}" ]; then
            printf '%-11s %3s %s\n' "$c" "$t" "n/a (${NA[$c]%%:*})"
            continue
        fi
        local w cp m wr wlo whi cr clo chi
        w=$(medcol "$f" "$c" "$t" 4) cp=$(medcol "$f" "$c" "$t" 5) m=$(medcol "$f" "$c" "$t" 6)
        [ -n "$w" ] || { printf '%-11s %3s %s\n' "$c" "$t" "no successful run"; continue; }
        read -r wr wlo whi _ <<<"$(stat "$f" "$c" "$ref" "$t" 4)"
        read -r cr clo chi _ <<<"$(stat "$f" "$c" "$ref" "$t" 5)"
        printf '%-11s %3s %9.3f %8.3f %8s %-15s %8s %-15s %9.1f\n' "$c" "$t" "$w" "$cp" \
            "${wr:--}" "[${wlo:--}-${whi:--}]" "${cr:--}" "[${clo:--}-${chi:--}]" \
            "$(awk -v m="$m" 'BEGIN { print m / 1024 }')"
    done
}
# target FILE LABEL A B T OP LIMIT: one ratio, PASS/MISS decided on CPU time.
target() {
    local f=$1 label=$2 a=$3 b=$4 t=$5 op=$6 lim=$7 w wlo whi c clo chi res
    if [ -n "${NA[$a]:-}" ] || [ -n "${NA[$b]:-}" ]; then
        printf '%-40s %s\n' "$label" "n/a"
        return
    fi
    read -r w wlo whi _ <<<"$(stat "$f" "$a" "$b" "$t" 4)"
    read -r c clo chi _ <<<"$(stat "$f" "$a" "$b" "$t" 5)"
    [ -n "${c:-}" ] || { printf '%-40s %s\n' "$label" "not run"; return; }
    if [ "$op" = ref ]; then
        op='' lim='' res=ref
    else
        res=$(awk -v v="$c" -v l="$lim" -v op="$op" 'BEGIN { print ((op == "<=" ? v <= l : v >= l) ? "PASS" : "MISS") }')
    fi
    printf '%-40s %7s %-13s %2s %5s %-4s %7s %s\n' "$label" "$c" "[$clo-$chi]" "$op" "$lim" "$res" "$w" "[$wlo-$whi]"
}

echo
echo "Every ratio: median over the rounds of the per-round ratio, [lowest-highest]."
if [ "$part_ab" = 1 ]; then
    for t in $threads; do
        echo
        table "$B/times" "$t" pt-base pt-base pt-off pt-sample
    done
fi
if [ "$part_redis" = 1 ]; then
    echo
    echo "redis-server under the preload, redis-benchmark -n $requests -c 20 -t set,get,incr,lpush,lpop,sadd"
    echo "(wall: the benchmark's; cpu: the server's; maxRSS: the server's VmHWM)"
    table "$B/times" 1 r-base r-base r-off r-sample
fi
if [ "$part_c" = 1 ]; then
    echo
    echo "the special pool for every allocation, small run ($sops ops, 1 thread)"
    table "$B/times.c" 1 glibc glibc pt-special efence duma
fi
echo
printf '%-40s %7s %-13s %8s %-4s %7s %s\n' "ratio (cpu)" cpu range target result wall range
if [ "$part_ab" = 1 ]; then
    for t in $threads; do
        th="$t thread"; [ "$t" = 1 ] || th="${th}s"
        target "$B/times" "pt-off / pt-base, $th" pt-off pt-base "$t" "<=" 1.01
        target "$B/times" "pt-sample / pt-off, $th" pt-sample pt-off "$t" "<=" 1.02
    done
fi
if [ "$part_redis" = 1 ]; then
    target "$B/times" "r-off / r-base (redis server)" r-off r-base 1 "<=" 1.01
    target "$B/times" "r-sample / r-off (redis server)" r-sample r-off 1 "<=" 1.02
fi
if [ "$part_c" = 1 ]; then
    target "$B/times.c" "efence / pt-special, small run" efence pt-special 1 ">=" 10
    target "$B/times.c" "duma / pt-special, small run" duma pt-special 1 ">=" 10
    target "$B/times.c" "pt-special / glibc, small run" pt-special glibc 1 ref -
    target "$B/times.c" "efence / glibc, small run" efence glibc 1 ref -
fi
echo
echo "total $(( $(date +%s) - start_s )) s"
exit "$failed"
