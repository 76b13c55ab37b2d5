#!/usr/bin/env bash
# real_bench.sh — what the preload costs real programs (issue 3 item 6).
#
# The same runs, without pooltag and under libpooltag-preload.so with each
# backend (PT_BACKEND=mimalloc, PT_BACKEND=libc), interleaved over several
# rounds (the order rotates each round), medians compared:
#
#   redis    redis-server on 127.0.0.1, driven by redis-benchmark with a fixed
#            command mix; the figure is the requests/s of the whole mix
#            (total requests / total time).  Peak RSS: the server's VmHWM.
#   python   an allocation-heavy CPython workload (dicts, lists, strings,
#            bytes, json round trips), timed; once with CPython's own small
#            object allocator (the default: most objects never reach
#            malloc) and once with PYTHONMALLOC=malloc (every object is a
#            malloc/free: the preload's worst case).  Peak RSS: max RSS.
#
# Ratios are throughput against the run without pooltag (for python,
# time without / time with), so above 1 means faster.  Targets (issue 3):
# mimalloc backend >= 1.00, libc backend >= 0.97.  Peak RSS ratios are
# shown, with no target.  Exits 0 whatever the numbers; 2 on bad usage or
# when the preload is not built.
#
# Usage: bench/real_bench.sh [--rounds N] [--quick] [--only redis|python]
# Environment: PT_BUILD (default: build/ beside this script), PRELOAD.
set -u
usage() {
    echo "usage: real_bench.sh [--rounds N] [--quick] [--only redis|python]"
}
rounds=5 quick=0 only=
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=${2:-}; shift 2 ;;
        --rounds=*) rounds=${1#*=}; shift ;;
        --quick) quick=1; rounds=1; shift ;;
        --only) only=${2:-}; shift 2 ;;
        --only=*) only=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "real_bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case $rounds in ''|*[!0-9]*|0) echo "real_bench.sh: --rounds wants a positive number" >&2; exit 2 ;; esac
case $only in ''|redis|python) ;; *) echo "real_bench.sh: --only wants redis or python" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
export PT_BUILD=${PT_BUILD:-$here/../build}
# shellcheck source=tests/real_lib.sh
. "$here/../tests/real_lib.sh"
if [ ! -f "$PRELOAD" ]; then
    echo "real_bench.sh: $PRELOAD not built (make build)" >&2
    exit 2
fi
PY=/usr/bin/python3
CONFIGS=(plain mimalloc libc)

# cfg_env CONFIG: the environment prefix of a configuration.
cfg_env() {
    case $1 in
        plain) CFG=(env -u LD_PRELOAD -u PT_BACKEND) ;;
        *) CFG=(env LD_PRELOAD="$PRELOAD" PT_BACKEND="$1") ;;
    esac
}

# median: of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "real_bench: the preload on real programs; $rounds round(s), order rotated each round"
echo "  preload $PRELOAD"
for c in mimalloc libc; do
    b=$(env LD_PRELOAD="$PRELOAD" PT_BACKEND=$c PT_VERBOSE=1 /bin/true 2>&1 | awk '/PT_BACKEND=/{ print $1 }')
    echo "  config $c: ${b:-PT_BACKEND not reported by PT_VERBOSE}"
done
for v in $(compgen -e | grep '^PT_' | grep -v '^PT_BUILD$' || true); do
    echo "  environment: $v=${!v}"
done
echo "  machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- redis ------------------------------------------------------------------
REDIS_N=200000 REDIS_TESTS=set,get,incr,lpush,rpush,lpop,sadd,hset,spop,lrange_100,mset
[ "$quick" = 1 ] && REDIS_N=20000

# redis_round CONFIG: one server, one redis-benchmark run; appends
# "round rps hwm_kb cpu_ticks" to $T/redis.CONFIG.
redis_round() {
    local cfg=$1 port pid rps hwm cpu up=0
    cfg_env "$cfg"
    for _ in 1 2 3 4 5; do
        port=$(free_port) || { echo "  redis $cfg: no free port"; return 1; }
        "${CFG[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$T" --daemonize no --protected-mode yes </dev/null >"$T/redis.log" 2>&1 &
        pid=$!
        track_pid "$pid"
        if redis_up "$port" "$pid"; then
            up=1
            break
        fi
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$up" != 1 ]; then
        echo "  redis $cfg: the server did not start ($(tail -c 300 "$T/redis.log"))"
        return 1
    fi
    timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -n "$REDIS_N" -r 100000 -d 128 \
        -c 50 -P 16 -t "$REDIS_TESTS" --csv >"$T/redis.csv" 2>/dev/null
    hwm=$(awk '/^VmHWM:/{ print $2 }' "/proc/$pid/status" 2>/dev/null)
    # The server's CPU time (user + system clock ticks): field 2 is
    # "(comm)", without spaces for redis-server.
    cpu=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null)
    timeout 20 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1
    wait_exit "$pid" 20 || { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
    # CSV: "test","rps",...; the mix's throughput is all requests over the
    # sum of the tests' times.
    rps=$(awk -F'"' -v n="$REDIS_N" '$4 ~ /^[0-9.]+$/ && $4 > 0 { t += n / $4; k++ }
        END { if (k) printf "%.0f %d\n", k * n / t, k }' "$T/redis.csv")
    if [ -z "$rps" ] || [ -z "$hwm" ] || [ -z "$cpu" ]; then
        echo "  redis $cfg: no result ($(tail -c 300 "$T/redis.log"))"
        return 1
    fi
    local tput ntests
    read -r tput ntests <<<"$rps"
    set -- "$tput" "$ntests"
    echo "$r $1 $hwm $cpu" >>"$T/redis.$cfg"
    printf '  round %-2s redis   %-9s %10s req/s  (%s tests)  server CPU %5.2f s  VmHWM %s KB\n' \
        "$r" "$cfg" "$1" "$2" "$(awk -v c="$cpu" -v h="$(getconf CLK_TCK)" 'BEGIN { print c / h }')" "$hwm"
}

# --- python -----------------------------------------------------------------
cat >"$T/work.py" <<'EOF'
# Allocation-heavy CPython workload for bench/real_bench.sh.
import json, sys

def round_(r):
    d = {f"key{i}": [i, str(i) * (i % 50), {"x": i, "y": [i] * (i % 20)}] for i in range(2000)}
    s = json.dumps(d)
    d2 = json.loads(s)
    blobs = [bytes(i % 3000) for i in range(1000)]
    big = "".join([str(i) for i in range(20000)])
    parts = big.split("1")
    return len(s) + len(d2) + sum(map(len, blobs)) + len(parts), (d, d2, blobs)

total, keep = 0, []
for r in range(int(sys.argv[1])):
    n, objs = round_(r)
    total += n
    keep.append(objs)          # a working set of the last 4 rounds
    if len(keep) > 4:
        keep.pop(0)
print(total)
EOF
PY_N=120
[ "$quick" = 1 ] && PY_N=15

# python_round CONFIG VARIANT: VARIANT pymalloc or malloc; appends
# "round seconds maxrss_kb cpu_seconds" to $T/py.VARIANT.CONFIG.
python_round() {
    local cfg=$1 var=$2 out
    cfg_env "$cfg"
    local -a pm=(env -u PYTHONMALLOC)
    [ "$var" = malloc ] && pm=(env PYTHONMALLOC=malloc)
    out=$( { timeout 600 /usr/bin/time -f 'TIME %e %M %U %S' "${CFG[@]}" "${pm[@]}" "$PY" "$T/work.py" "$PY_N" >"$T/py.out"; } 2>&1 | grep '^TIME')
    if [ -z "$out" ] || [ ! -s "$T/py.out" ]; then
        echo "  python $cfg $var: failed"
        return 1
    fi
    local _tag wall rss ut st
    read -r _tag wall rss ut st <<<"$out"
    set -- "$_tag" "$wall" "$rss" "$ut" "$st"
    echo "$r $2 $3 $(awk -v u="$4" -v s="$5" 'BEGIN { print u + s }')" >>"$T/py.$var.$cfg"
    printf '  round %-2s python  %-9s %-8s %7s s  CPU %5.2f s  maxRSS %s KB\n' "$r" "$cfg" "$var" "$2" \
        "$(awk -v u="$4" -v s="$5" 'BEGIN { print u + s }')" "$3"
}

if [ -z "$only" ] || [ "$only" = redis ]; then
    if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
        echo "real_bench.sh: redis-server/redis-benchmark not installed (scripts/deps.sh)" >&2
        exit 2
    fi
fi
[ -x "$PY" ] || { echo "real_bench.sh: $PY not installed" >&2; exit 2; }

echo
for ((r = 1; r <= rounds; r++)); do
    # Rotate the order of the configurations each round.
    order=()
    for ((k = 0; k < ${#CONFIGS[@]}; k++)); do
        order+=("${CONFIGS[$(((k + r - 1) % ${#CONFIGS[@]}))]}")
    done
    for cfg in "${order[@]}"; do
        if [ -z "$only" ] || [ "$only" = redis ]; then redis_round "$cfg"; fi
        if [ -z "$only" ] || [ "$only" = python ]; then
            python_round "$cfg" pymalloc
            python_round "$cfg" malloc
        fi
    done
done

# med FILE COL: the median of column COL of FILE.
med() { [ -s "$1" ] && awk -v c="$2" '{ print $c }' "$1" | median; }

# paired BASEFILE FILE COL HIGHER: the ratio of FILE to BASEFILE for each
# round that both have (BASE/FILE when HIGHER=0: lower is better), as
# "median min max".  Pairing the runs of one round cancels the slow drift of
# a shared machine better than a ratio of medians would.
paired() {
    awk -v c="$3" -v h="$4" 'NR == FNR { b[$1] = $c; next }
        ($1 in b) && b[$1] > 0 && $c > 0 { print (h == 1 ? $c / b[$1] : b[$1] / $c) }' "$1" "$2" |
        sort -g | awk '{ v[NR] = $1 }
        END { if (NR) printf "%.3f %.3f %.3f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
}

# steal_pct: CPU time stolen by the hypervisor since the start, in %.
read -r _ s_user s_nice s_sys s_idle s_iow s_irq s_sirq s_steal _ </proc/stat
steal_pct() {
    local _c u n s i w q sq st
    read -r _c u n s i w q sq st _ </proc/stat
    awk -v d="$((st - s_steal))" -v t="$(((u + n + s + i + w + q + sq + st) - (s_user + s_nice + s_sys + s_idle + s_iow + s_irq + s_sirq + s_steal)))" \
        'BEGIN { if (t > 0) printf "%.1f", 100 * d / t; else print "?" }'
}

echo
printf '%-38s %11s %11s %7s %13s %8s %6s %9s %9s\n' "workload, config" "median" "plain" "ratio" "range" "target" "result" "cpu ratio" "peak RSS"
# row NAME UNIT BASEFILE FILE HIGHER TARGET: the medians (column 2), the
# paired ratio of column 2 (higher is better when HIGHER=1) with its range
# over the rounds, of column 4 (CPU time, lower is better) and of column 3
# (peak RSS, with / without).
row() {
    local name=$1 unit=$2 bf=$3 f=$4 higher=$5 target=$6 b v ratio lo hi res rss cpu
    b=$(med "$bf" 2) v=$(med "$f" 2)
    read -r ratio lo hi <<<"$(paired "$bf" "$f" 2 "$higher")"
    if [ -z "$b" ] || [ -z "$v" ] || [ -z "$ratio" ]; then
        printf '%-38s %11s\n' "$name" "no data"
        return
    fi
    res=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t ? "PASS" : "MISS") }')
    read -r cpu _ <<<"$(paired "$bf" "$f" 4 0)"
    read -r rss _ <<<"$(paired "$bf" "$f" 3 1)"
    printf '%-38s %11s %11s %7s %13s %8s %6s %9s %9s\n' "$name" "$v$unit" "$b$unit" "$ratio" "$lo-$hi" \
        ">= $target" "$res" "$cpu" "$rss"
}
for cfg in mimalloc libc; do
    t=1.00; [ "$cfg" = libc ] && t=0.97
    if [ -z "$only" ] || [ "$only" = redis ]; then
        row "redis-benchmark req/s, $cfg" "" "$T/redis.plain" "$T/redis.$cfg" 1 $t
    fi
    if [ -z "$only" ] || [ "$only" = python ]; then
        row "python (pymalloc) time, $cfg" s "$T/py.pymalloc.plain" "$T/py.pymalloc.$cfg" 0 $t
        row "python (PYTHONMALLOC=malloc), $cfg" s "$T/py.malloc.plain" "$T/py.malloc.$cfg" 0 $t
    fi
done
echo
echo "ratio: throughput with pooltag / without (python: wall time without / with), the median over"
echo "  the rounds of each round's ratio (range: the lowest and highest); decides PASS/MISS;"
echo "cpu ratio: CPU time without / with (redis: the server's, for the same requests);"
echo "peak RSS: with / without (redis-server VmHWM, python max RSS). $rounds round(s)."
echo "machine: load average at the end $(cut -d' ' -f1-3 /proc/loadavg), CPU time stolen by the hypervisor $(steal_pct) %"
echo "redis-server is Debian's, linked with jemalloc: 'plain' is redis on its own jemalloc."
exit 0
