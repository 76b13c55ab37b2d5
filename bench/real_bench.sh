#!/usr/bin/env bash
# real_bench.sh — what the preload costs real programs, with a stated
# uncertainty (issue 3 item 6, reworked for issue 14 items 3 and 4).
#
# Three configurations: the program without pooltag (plain), under
# libpooltag-preload.so with PT_BACKEND=mimalloc (pt-mi) and with
# PT_BACKEND=libc (pt-libc).  Many short rounds; every round runs every
# workload in every configuration, in an order that rotates from round to
# round.  The figure is the TARGET'S OWN CPU TIME (user + system) per unit
# of work, which another process on the machine disturbs far less than the
# wall time; wall throughput is shown next to it.
#
#   redis         one redis-server per configuration, started once and kept
#                 for the whole run; each round FLUSHALLs it, then drives it
#                 with one redis-benchmark run (a malloc-heavy mix).  CPU:
#                 the server's on-CPU time summed over its threads
#                 (/proc/PID/task/*/schedstat, ns) read before and after the
#                 redis-benchmark run, per request served.
#   py-pymalloc   /usr/bin/python3 on an allocation-heavy pure-Python script
#                 (CPython's small-object allocator: most objects never
#                 reach malloc).  CPU: the child's rusage (wait4), per run.
#   py-malloc     the same with PYTHONMALLOC=malloc (every object is a
#                 malloc/free).
#   callgrind     instructions executed by one py-malloc run under
#                 valgrind --tool=callgrind: a figure without noise.
#
# Ratios: TIME WITH POOLTAG / TIME WITHOUT (pt/plain), LOWER IS BETTER, as
# in the rest of bench/.  The ratio of each round pairs the runs of that
# round; the table gives the median of the per-round ratios and a bootstrap
# 95 % interval of that median.  Targets (issue 14, "at >= 1.00x / 0.97x the
# speed of the program without pooltag"): pt-mi <= 1.000, pt-libc <=
# 1.031 (= 1/0.97), by CPU time per unit of work.
#
# Honesty checks (a failure makes the exit status 1): the preload was
# mapped into every pt process and not into the plain ones, the backend in
# effect is the intended one (PT_VERBOSE=1 in the process itself), the
# counts read back (pooltag used on the live servers, PT_EXIT_REPORT of
# every pt process) show the allocations, PYTHONMALLOC=malloc really sends
# the objects to malloc, and callgrind saw pt__pl_malloc called.
#
# Exit status: 0 (whatever the ratios), 1 when an honesty check failed or a
# workload produced no data, 2 on bad usage or a missing program.
set -u
prog=real_bench.sh
usage() {
    cat <<'EOF'
usage: real_bench.sh [--rounds N] [--quick] [--only redis|python|callgrind] [--no-callgrind] [--refs] [--verbose]

  --rounds N      rounds (default 21); each runs every workload in every
                  configuration (plain, pt-mi, pt-libc), order rotating
  --quick         a short smoke run (2 small rounds): checks that it runs and
                  that the honesty checks pass; its numbers mean nothing
  --only W        only workload W: redis, python (both variants), callgrind
  --no-callgrind  skip the callgrind instruction counts
  --refs          also the bare allocators without pooltag as references:
                  ref-mi (LD_PRELOAD=libmimalloc.so.2) and, for redis,
                  ref-libc (LD_PRELOAD=libc.so.6: glibc's malloc before
                  redis' jemalloc); adds pt-mi/ref-mi and pt-libc/ref-libc rows
  -v, --verbose   also print every run and every check as it happens
  -h, --help      this text

Ratios are pt/plain time ratios (lower is better): CPU time per unit of
work (the decisive figure) and wall time per unit of work, each the median
of per-round ratios with a bootstrap 95 % interval.  Targets: pt-mi <=
1.000, pt-libc <= 1.031.  Environment: PT_BUILD (build tree, default build/
beside bench/), PRELOAD, POOLTAG; other PT_* variables apply to the pt runs.
Exit status: 0, 1 if an honesty check failed or a run gave no result, 2 on
bad usage or a missing program.
EOF
}
die2() { echo "$prog: $*" >&2; exit 2; }
rounds=21 quick=0 only='' callgrind=1 rounds_set=0 refs=0 verbose=0
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) [ $# -ge 2 ] || die2 "--rounds wants a number"; rounds=$2; rounds_set=1; shift 2 ;;
        --rounds=*) rounds=${1#*=}; rounds_set=1; shift ;;
        --quick) quick=1; shift ;;
        --only) [ $# -ge 2 ] || die2 "--only wants redis, python or callgrind"; only=$2; shift 2 ;;
        --only=*) only=${1#*=}; shift ;;
        --no-callgrind) callgrind=0; shift ;;
        --refs) refs=1; shift ;;
        -v|--verbose) verbose=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die2 "unknown argument '$1' (see --help)" ;;
    esac
done
case $rounds in ''|*[!0-9]*) die2 "--rounds wants a whole number from 2 to 999, not '$rounds'" ;; esac
{ [ "$rounds" -ge 2 ] && [ "$rounds" -le 999 ]; } || die2 "--rounds wants a whole number from 2 to 999, not '$rounds'"
case $only in ''|redis|python|callgrind) ;; *) die2 "--only wants redis, python or callgrind, not '$only'" ;; esac
[ "$quick" = 1 ] && [ "$rounds_set" = 0 ] && rounds=2
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
[ "$only" = callgrind ] && [ "$callgrind" = 0 ] && die2 "--only callgrind and --no-callgrind exclude each other"

here=$(cd "$(dirname "$0")" && pwd)
export PT_BUILD=${PT_BUILD:-$here/../build}
# shellcheck source=tests/real_lib.sh
. "$here/../tests/real_lib.sh"
[ -f "$PRELOAD" ] || die2 "$PRELOAD not built (make build, or set PT_BUILD)"
[ -x "$POOLTAG" ] || die2 "$POOLTAG not built (make build, or set PT_BUILD)"
PY=/usr/bin/python3
[ -x "$PY" ] || die2 "$PY not installed (scripts/deps.sh)"
if want redis; then
    for c in redis-server redis-benchmark redis-cli; do
        command -v "$c" >/dev/null || die2 "$c not installed (scripts/deps.sh)"
    done
fi
if want callgrind && [ "$callgrind" = 1 ]; then
    command -v valgrind >/dev/null || die2 "valgrind not installed (scripts/deps.sh); or --no-callgrind"
fi

CONFIGS=(plain pt-mi pt-libc)
LIBMI=$(ldd "$PRELOAD" 2>/dev/null | awk '$1 ~ /^libmimalloc/ { print $3; exit }')
LIBC=$(ldd /bin/true 2>/dev/null | awk '$1 ~ /^libc\.so/ { print $3; exit }')
if [ "$refs" = 1 ]; then
    [ -f "$LIBMI" ] || die2 "--refs: the preload's libmimalloc not found (ldd $PRELOAD)"
    [ -f "$LIBC" ] || die2 "--refs: libc.so.6 not found (ldd /bin/true)"
    CONFIGS+=(ref-mi ref-libc)
fi
backend_of() { case $1 in pt-mi) echo mimalloc ;; pt-libc) echo libc ;; esac; }
honest_fail=0
hbad() { echo "  HONESTY CHECK FAILED: $*"; honest_fail=1; }
hok() { [ "$quick" = 1 ] || [ "$verbose" = 1 ] && echo "  check ok: $*"; return 0; }
nchecks=0
hcount() { nchecks=$((nchecks + 1)); }

# cfg_env CONFIG LABEL: the environment prefix of a configuration in CFG
# (plain: every PT_* variable and LD_PRELOAD removed; pt: the preload, its
# backend, PT_VERBOSE=1 so that the process itself says which backend is in
# effect, and an exit report in $T/rep/LABEL.%p).
cfg_env() {
    local v
    if [ "${1%%-*}" != pt ]; then
        CFG=(env -u LD_PRELOAD)
        for v in $(compgen -e | grep '^PT_' || true); do CFG+=(-u "$v"); done
        case $1 in
            ref-mi) CFG+=(LD_PRELOAD="$LIBMI") ;;
            ref-libc) CFG+=(LD_PRELOAD="$LIBC") ;;
        esac
    else
        CFG=(env LD_PRELOAD="$PRELOAD" PT_BACKEND="$(backend_of "$1")" PT_VERBOSE=1
             PT_EXIT_REPORT="$T/rep/$2.%p")
    fi
}
mkdir -p "$T/rep"

# check_backend CONFIG STDERR_FILE WHAT [PID]: the process' PT_VERBOSE=1
# output names the configuration's backend (and, with PID, comes from the
# process PID itself).
check_backend() {
    local want got
    want=$(backend_of "$1")
    got=$(awk '$1 ~ /^PT_BACKEND=/ { sub(/^PT_BACKEND=/, "", $1); print $1; exit }' "$2")
    hcount
    if [ -n "${4:-}" ] && ! grep -q "settings in effect (pid $4)" "$2"; then
        hbad "$3: PID $4 did not print its settings (PT_VERBOSE=1): the preload was not in it"
        return
    fi
    if [ "$got" = "$want" ]; then hok "$3: backend $got in effect"; else hbad "$3: backend '${got:-not reported}', want $want"; fi
}

# report_allocs FILE: the allocations counted in an exit report.
report_allocs() { awk -F'\t' '{ a += $3 } END { print a + 0 }' "$1" 2>/dev/null; }

DATA=$T/data   # "round config workload cpu_seconds wall_seconds units"
: >"$DATA"

echo "real_bench: what libpooltag-preload.so costs real programs; $rounds round(s)$([ "$quick" = 1 ] && echo ', --quick: numbers mean nothing')"
echo "  preload $PRELOAD"
echo "  configurations: plain (no pooltag), pt-mi (PT_BACKEND=mimalloc), pt-libc (PT_BACKEND=libc)$([ "$refs" = 1 ] && echo ", ref-mi (LD_PRELOAD=$LIBMI), ref-libc (redis only: LD_PRELOAD=$LIBC)"); order rotates each round"
for v in $(compgen -e | grep '^PT_' | grep -v -e '^PT_BUILD$' -e '^PT_REAL_KEEP$' || true); do
    echo "  environment: $v=${!v} (applies to the pt runs)"
done
echo "  machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
read -r _ s_user s_nice s_sys s_idle s_iow s_irq s_sirq s_steal _ </proc/stat
t_start=$(date +%s)

# --- redis ------------------------------------------------------------------
REDIS_N=20000 REDIS_TESTS=set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,lrange_100,mset
[ "$quick" = 1 ] && REDIS_N=2000
REDIS_NTESTS=$(echo "$REDIS_TESTS" | tr ',' '\n' | wc -l)
declare -A RPID RPORT

# task_cpu_ns PID: on-CPU time of all the process' threads, in ns.
task_cpu_ns() {
    local s
    s=$(cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ t += $1 } END { if (NR) printf "%.0f\n", t }')
    if [ -z "$s" ]; then   # no schedstat: utime + stime in clock ticks
        s=$(awk -v h="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1e9 / h }' /proc/"$1"/stat 2>/dev/null)
    fi
    echo "$s"
}

redis_start() {
    local cfg=$1 port pid i
    cfg_env "$cfg" "redis.$cfg"
    for i in 1 2 3 4 5; do
        port=$(free_port) || break
        "${CFG[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$T" --daemonize no --protected-mode yes </dev/null >"$T/redis.$cfg.log" 2>&1 &
        pid=$!
        track_pid "$pid"
        if redis_up "$port" "$pid"; then
            RPID[$cfg]=$pid RPORT[$cfg]=$port
            return 0
        fi
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    echo "  redis $cfg: the server did not start ($(tail -c 300 "$T/redis.$cfg.log"))"
    return 1
}

# redis_round CONFIG: FLUSHALL, then one redis-benchmark run against the
# configuration's server; records the server's CPU time and the mix's wall
# time (the sum of the tests' times from the CSV).
redis_round() {
    local cfg=$1 pid=${RPID[$1]:-} port=${RPORT[$1]:-} c0 c1 wall cpu
    [ -n "$pid" ] || return 1
    timeout 60 redis-cli -h 127.0.0.1 -p "$port" flushall >/dev/null 2>&1
    c0=$(task_cpu_ns "$pid")
    timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -n "$REDIS_N" -r 100000 -d 256 \
        -c 50 -P 16 -t "$REDIS_TESTS" --csv >"$T/redis.csv" 2>/dev/null
    c1=$(task_cpu_ns "$pid")
    wall=$(awk -F'"' -v n="$REDIS_N" '$4 ~ /^[0-9.]+$/ && $4 > 0 { t += n / $4; k++ }
        END { if (k) printf "%.6f %d\n", t, k }' "$T/redis.csv")
    local k=
    read -r wall k <<<"$wall"
    # redis-benchmark adds an LPUSH run of its own before lrange_100.
    if [ -z "$c0" ] || [ -z "$c1" ] || [ -z "$wall" ] || [ "${k:-0}" -lt "$REDIS_NTESTS" ]; then
        echo "  round $r redis $cfg: no result ($k of $REDIS_NTESTS tests; $(tail -c 200 "$T/redis.$cfg.log"))"
        return 1
    fi
    cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
    echo "$r $cfg redis $cpu $wall $((REDIS_N * k))" >>"$DATA"
    [ "$quick" = 1 ] || [ "$verbose" = 1 ] &&
        printf '  round %-3s redis        %-8s server CPU %7.3f s  wall %7.3f s\n' "$r" "$cfg" "$cpu" "$wall"
    return 0
}

# redis_finish: the honesty checks on the live servers, then shutdown and
# the exit reports.
redis_finish() {
    local cfg pid port maps used allocs f total
    for cfg in "${CONFIGS[@]}"; do
        pid=${RPID[$cfg]:-}
        [ -n "$pid" ] || continue
        total=$(awk -v c="$cfg" '$2 == c && $3 == "redis" { t += $6 } END { print t + 0 }' "$DATA")
        port=${RPORT[$cfg]}
        maps=$(grep -c 'memfd:pooltag' "/proc/$pid/maps" 2>/dev/null)
        # Whose malloc served redis: jemalloc's own statistics (INFO's
        # allocator_allocated) against redis' count of its memory
        # (used_memory); the data of the last round is still there.
        local jem usedmem
        read -r jem usedmem <<<"$(timeout 20 redis-cli -h 127.0.0.1 -p "$port" info memory | tr -d '\r' |
            awk -F: '$1 == "allocator_allocated" { j = $2 } $1 == "used_memory" { u = $2 } END { print j + 0, u + 0 }')"
        hcount
        if [ "$cfg" = plain ]; then
            if [ "$jem" -gt $((usedmem / 2)) ]; then hok "redis plain: jemalloc holds $jem of $usedmem bytes"; else hbad "redis plain: jemalloc holds only $jem of redis' $usedmem bytes"; fi
        else
            if [ "$jem" -lt $((usedmem / 10)) ]; then hok "redis $cfg: jemalloc idle ($jem of $usedmem bytes)"; else hbad "redis $cfg: jemalloc holds $jem of redis' $usedmem bytes: the malloc calls did not leave it"; fi
        fi
        hcount
        if [ "${cfg%%-*}" != pt ]; then
            if [ "${maps:-0}" = 0 ]; then hok "redis $cfg: no pooltag segment mapped"; else hbad "redis $cfg: the pooltag segment is mapped"; fi
            if [ "$cfg" = ref-mi ]; then
                hcount
                if grep -q "${LIBMI##*/}" "/proc/$pid/maps"; then hok "redis ref-mi: libmimalloc mapped"; else hbad "redis ref-mi: libmimalloc not mapped"; fi
            fi
        else
            if [ "${maps:-0}" -gt 0 ]; then hok "redis $cfg: segment mapped"; else hbad "redis $cfg: no pooltag segment in /proc/$pid/maps"; fi
            check_backend "$cfg" "$T/redis.$cfg.log" "redis $cfg"
            # Live counts read back from outside: the tag of redis' own
            # module must hold allocations.
            used=$(timeout 30 "$POOLTAG" used "$pid" 2>&1 | awk '$1 == "TOTAL" { print $4 }')
            hcount
            if [ "${used:-0}" -gt 0 ] 2>/dev/null; then
                hok "redis $cfg: pooltag used $pid reads $used live paged allocations"
            else
                hbad "redis $cfg: pooltag used $pid read no allocations (${used:-no TOTAL line})"
            fi
        fi
        timeout 20 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1
        wait_exit "$pid" 20 || { kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
        if [ "${cfg%%-*}" = pt ]; then
            f=$T/rep/redis.$cfg.$pid
            allocs=$(report_allocs "$f")
            hcount
            # Every SET, LPUSH, RPUSH, SADD, HSET and MSET allocates.
            if [ -s "$f" ] && [ "${allocs:-0}" -ge "$total" ]; then
                hok "redis $cfg: exit report: $allocs allocations for $total requests"
                echo "  redis $cfg: $allocs allocations counted by pooltag for $total requests ($(awk -v a="$allocs" -v t="$total" 'BEGIN { printf "%.2f", a / t }') per request)"
            else
                hbad "redis $cfg: exit report ${f##*/}: ${allocs:-no} allocations for $total requests"
            fi
        fi
    done
}

# --- python -----------------------------------------------------------------
cat >"$T/work.py" <<'EOF'
# Allocation-heavy pure-Python workload for bench/real_bench.sh: builds and
# drops many small dicts, lists, tuples and strings.
import sys

def round_(r):
    d = {}
    for i in range(3000):
        d["k%d_%d" % (r, i)] = [i, str(i) * (i % 7), {"x": i, "y": (i, r)}]
    words = [str(i) + "w" for i in range(6000)]
    text = " ".join(words)
    parts = text.split(" ")
    triples = [tuple(parts[i:i + 3]) for i in range(0, len(parts), 3)]
    inv = {v: k for k, v in enumerate(parts)}
    return len(d) + len(parts) + len(triples) + len(inv)

total = 0
for r in range(int(sys.argv[1])):
    total += round_(r)
print(total)
# Which allocator libraries this process had mapped (checked by the script).
maps = open("/proc/self/maps").read()
print("maps: pooltag=%d mimalloc=%d" % ("memfd:pooltag" in maps, "libmimalloc" in maps))
EOF
# The runner: starts the command, waits for it with wait4 and prints
# "cpu_seconds wall_seconds maxrss_kb" (the child's own rusage).
cat >"$T/runner.py" <<'EOF'
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(sys.argv[1], "w") as f:
    f.write("%d %.6f %.6f %d %d\n" % (pid, ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss,
                                       os.waitstatus_to_exitcode(status)))
EOF
PY_N=40
[ "$quick" = 1 ] && PY_N=4

# python_round CONFIG VARIANT: one run; VARIANT pymalloc or malloc.
python_round() {
    local cfg=$1 var=$2 label pid cpu wall rss rc allocs f mp mm
    # python's own malloc is glibc's: plain is the glibc reference.
    [ "$cfg" = ref-libc ] && return 0
    label=py.$var.$cfg.$r
    cfg_env "$cfg" "$label"
    # One env for everything: a second env would be a program of its own
    # under the preload, which drops itself from LD_PRELOAD there.
    if [ "$var" = malloc ]; then CFG+=(PYTHONMALLOC=malloc); else CFG=(env -u PYTHONMALLOC "${CFG[@]:1}"); fi
    timeout 300 "$PY" "$T/runner.py" "$T/run.out" "${CFG[@]}" "$PY" "$T/work.py" "$PY_N" \
        >"$T/py.out" 2>"$T/py.err" </dev/null
    read -r pid cpu wall rss rc <"$T/run.out" 2>/dev/null
    if [ "${rc:-1}" != 0 ] || [ ! -s "$T/py.out" ]; then
        echo "  round $r python $var $cfg: failed (status ${rc:-?}: $(tail -c 200 "$T/py.err"))"
        return 1
    fi
    read -r mp mm <<<"$(awk '$1 == "maps:" { sub(/pooltag=/, "", $2); sub(/mimalloc=/, "", $3); print $2, $3 }' "$T/py.out")"
    hcount
    case $cfg:${mp:-?}:${mm:-?} in
        plain:0:0|pt-*:1:*|ref-mi:0:1) ;;
        *) hbad "python $var $cfg round $r: mapped pooltag=${mp:-?} mimalloc=${mm:-?}" ;;
    esac
    if [ "${cfg%%-*}" = pt ]; then
        check_backend "$cfg" "$T/py.err" "python $var $cfg round $r" "$pid"
        f=$T/rep/$label.$pid
        allocs=$(report_allocs "$f")
        hcount
        if [ -s "$f" ] && [ "${allocs:-0}" -gt 1000 ]; then
            echo "$var $cfg $allocs" >>"$T/py.allocs"
        else
            hbad "python $var $cfg round $r: exit report ${f##*/}: ${allocs:-no} allocations"
        fi
    fi
    echo "$r $cfg py-$var $cpu $wall 1" >>"$DATA"
    [ "$quick" = 1 ] || [ "$verbose" = 1 ] &&
        printf '  round %-3s py-%-9s %-8s CPU %7.3f s  wall %7.3f s  maxRSS %s KB\n' "$r" "$var" "$cfg" "$cpu" "$wall" "$rss"
    return 0
}

# python_checks: the counts of the exit reports; with PYTHONMALLOC=malloc
# every object goes through malloc, so far more allocations reach pooltag.
python_checks() {
    local cfg pm m
    for cfg in pt-mi pt-libc; do
        pm=$(awk -v c="$cfg" '$1 == "pymalloc" && $2 == c { print $3 }' "$T/py.allocs" 2>/dev/null | sort -n | head -1)
        m=$(awk -v c="$cfg" '$1 == "malloc" && $2 == c { print $3 }' "$T/py.allocs" 2>/dev/null | sort -n | head -1)
        hcount
        if [ -n "$pm" ] && [ -n "$m" ] && [ "$m" -ge $((5 * pm)) ]; then
            echo "  python $cfg: pooltag counted $pm allocations per pymalloc run, $m per PYTHONMALLOC=malloc run (fewest of the rounds)"
        else
            hbad "python $cfg: allocations counted: pymalloc ${pm:-none}, PYTHONMALLOC=malloc ${m:-none} (want malloc >= 5x pymalloc)"
        fi
    done
}

# --- callgrind ----------------------------------------------------------------
CG_N=6
[ "$quick" = 1 ] && CG_N=1

# callgrind_run CONFIG: instructions of one PYTHONMALLOC=malloc run.  The
# valgrind launcher itself is exec'd with the child's environment, so
# PT_FOLLOW_CHILDREN=1 keeps the preload in LD_PRELOAD past it (otherwise
# the launcher's copy removes it and python runs without it).
callgrind_run() {
    local cfg=$1 out=$T/cg.$1 ir calls allocs f
    cfg_env "$cfg" "cg.$cfg"
    [ "$cfg" = plain ] || CFG+=(PT_FOLLOW_CHILDREN=1)
    rm -f "$out".*
    timeout 600 valgrind -q --tool=callgrind --trace-children=yes --callgrind-out-file="$out.%p" \
        "${CFG[@]}" PYTHONMALLOC=malloc "$PY" "$T/work.py" "$CG_N" >"$T/cg.$cfg.stdout" 2>"$T/cg.$cfg.err"
    f=$(grep -l "^cmd: *$PY " "$out".* 2>/dev/null | head -1)
    if [ -z "$f" ]; then
        echo "  callgrind $cfg: no callgrind output for python ($(tail -c 200 "$T/cg.$cfg.err"))"
        return 1
    fi
    ir=$(awk '$1 == "totals:" { print $2 }' "$f")
    # Calls of pt__pl_malloc: the "calls=" line after each cfn= naming it
    # (by name the first time it appears, in an fn= or a cfn= line, then
    # by its number).
    calls=$(awk '
        /^c?fn=/ && $2 == "pt__pl_malloc" { mid = $1; sub(/^c?fn=/, "", mid) }
        /^cfn=/ { id = $1; sub(/^cfn=/, "", id); cur = (mid != "" && id == mid); next }
        /^calls=/ { if (cur) { split($1, a, "="); n += a[2] }; cur = 0 }
        END { print n + 0 }' "$f")
    allocs=
    [ "$cfg" = plain ] || allocs=$(cat "$T/rep/cg.$cfg".* 2>/dev/null | awk -F'\t' '{ a += $3 } END { print a + 0 }')
    echo "$cfg $ir $calls ${allocs:-0}" >>"$T/cg.results"
    hcount
    if [ "$cfg" = plain ]; then
        if [ "$calls" = 0 ]; then hok "callgrind plain: no pt__pl_malloc"; else hbad "callgrind plain: pt__pl_malloc called $calls times"; fi
    else
        check_backend "$cfg" "$T/cg.$cfg.err" "callgrind $cfg"
        if [ "$calls" -gt 1000 ] && [ "${allocs:-0}" -gt 1000 ]; then
            hok "callgrind $cfg: pt__pl_malloc called $calls times, $allocs allocations counted"
        else
            hbad "callgrind $cfg: pt__pl_malloc called $calls times, ${allocs:-no} allocations counted: the preload was not active under valgrind"
        fi
    fi
}

# --- the rounds ---------------------------------------------------------------
if want redis; then
    for cfg in "${CONFIGS[@]}"; do redis_start "$cfg" || honest_fail=1; done
    # One uncounted run per server first: the heap grows to its working
    # size, and the first round measures what the others do.
    r=warmup
    for cfg in "${CONFIGS[@]}"; do redis_round "$cfg" >/dev/null; done
    sed -i '/^warmup /d' "$DATA"
fi
nfail=0
if want redis || want python; then
    want redis && echo "  redis-benchmark: -n $REDIS_N -r 100000 -d 256 -c 50 -P 16 -t $REDIS_TESTS (with the LPUSH run that precedes lrange_100: $((REDIS_N * (REDIS_NTESTS + 1))) requests per run)"
    want python && echo "  python: $PY work.py $PY_N (dicts, lists, tuples, strings built and dropped), default allocator and PYTHONMALLOC=malloc"
    for ((r = 1; r <= rounds; r++)); do
        order=()
        for ((k = 0; k < ${#CONFIGS[@]}; k++)); do
            order+=("${CONFIGS[$(((k + r - 1) % ${#CONFIGS[@]}))]}")
        done
        for cfg in "${order[@]}"; do
            if want redis; then redis_round "$cfg" || nfail=$((nfail + 1)); fi
            if want python; then
                python_round "$cfg" pymalloc || nfail=$((nfail + 1))
                python_round "$cfg" malloc || nfail=$((nfail + 1))
            fi
        done
    done
fi
want redis && redis_finish
want python && python_checks
if want callgrind && [ "$callgrind" = 1 ]; then
    for cfg in plain pt-mi pt-libc; do callgrind_run "$cfg" || nfail=$((nfail + 1)); done
fi

# --- statistics ---------------------------------------------------------------
cat >"$T/stats.py" <<'EOF'
# Per-round paired ratios pt/plain, their median, and a percentile
# bootstrap 95 % interval of the median (rounds resampled with replacement).
import random, statistics, sys
data = {}
PAIRS = [("pt-mi", "plain", 1.0), ("pt-libc", "plain", 1 / 0.97),
         ("ref-mi", "plain", None), ("ref-libc", "plain", None),
         ("pt-mi", "ref-mi", None), ("pt-libc", "ref-libc", None)]
for line in open(sys.argv[1]):
    r, cfg, wl, cpu, wall, units = line.split()
    data.setdefault(wl, {}).setdefault(cfg, {})[r] = (float(cpu) / float(units), float(wall) / float(units))
B, rng = 4000, random.Random(14)

def boot(xs):
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(B))
    return meds[int(0.025 * B)], meds[int(0.975 * B) - 1]

def unit(wl, v):
    return "%.2f us/req" % (v * 1e6) if wl == "redis" else "%.1f ms/run" % (v * 1e3)

hdr = "%-12s %-17s %14s %14s  %-22s %-7s %-6s %-21s %-22s %s"
print(hdr % ("workload", "config", "base cpu", "cpu", "cpu ratio [95% CI]", "target", "result",
             "interval vs target", "wall ratio [95% CI]", "base noise"))
rows = 0
for wl in ("redis", "py-pymalloc", "py-malloc"):
    if wl not in data or "plain" not in data[wl]:
        continue
    for cfg, bcfg, t in PAIRS:
        if t is None and (cfg not in data[wl] or bcfg not in data[wl]):
            continue
        base = data[wl].get(bcfg, {})
        pc = sorted(v[0] for v in base.values())
        runs = data[wl].get(cfg, {})
        rs = [r for r in runs if r in base]
        if len(rs) < 2:
            print("%-12s %-17s no data (%d paired rounds)" % (wl, cfg, len(rs)))
            continue
        q = statistics.quantiles(pc, n=4) if len(pc) >= 2 else [pc[0]] * 3
        noise = (q[2] - q[0]) / statistics.median(pc)
        cr = [runs[r][0] / base[r][0] for r in rs]
        wr = [runs[r][1] / base[r][1] for r in rs]
        m, (lo, hi) = statistics.median(cr), boot(cr)
        wm, (wlo, whi) = statistics.median(wr), boot(wr)
        name = cfg if bcfg == "plain" else cfg + "/" + bcfg
        if t is None:
            tt, res, where = "ref", "", "contains 1" if lo <= 1 <= hi else "excludes 1"
        else:
            tt, res = "<=%.3f" % t, ("PASS" if m <= t else "MISS")
            where = ("below: sure PASS" if hi <= t else "above: sure MISS" if lo > t
                     else "contains the target")
            rows += 1
        print(hdr % (wl, name, unit(wl, statistics.median(pc)), unit(wl, statistics.median(v[0] for v in runs.values())),
                     "%.3f [%.3f-%.3f]" % (m, lo, hi), tt, res, where,
                     "%.3f [%.3f-%.3f]" % (wm, wlo, whi), "%.1f%% (%d rounds)" % (100 * noise, len(rs))))
sys.exit(0 if rows else 3)
EOF

steal_pct() {
    local _c u n s i w q sq st
    read -r _c u n s i w q sq st _ </proc/stat
    awk -v d="$((st - s_steal))" -v t="$(((u + n + s + i + w + q + sq + st) - (s_user + s_nice + s_sys + s_idle + s_iow + s_irq + s_sirq + s_steal)))" \
        'BEGIN { if (t > 0) printf "%.1f", 100 * d / t; else print "?" }'
}

echo
if want redis || want python; then
    echo "Ratios pt/plain of the time per unit of work, LOWER IS BETTER (1.000: as fast as without pooltag):"
    echo "median of the $rounds per-round ratios, [bootstrap 95 % interval of that median]."
    "$PY" "$T/stats.py" "$DATA" || { echo "  no ratio could be computed"; honest_fail=1; }
    echo "cpu: the target's own user+system time per request (redis-server, all threads) or per run (python, rusage);"
    echo "wall: redis-benchmark's time for the mix, python's run time.  Targets: pt-mi <= 1.000, pt-libc <= 1.031 (= 1/0.97)."
    echo "base noise: interquartile range / median of the CPU time of the base configuration's runs (plain unless named)."
    echo "Plain redis-server is Debian's, whose malloc is jemalloc; under the preload (and ref-*) redis' malloc/free leave it."
fi
if [ -s "$T/cg.results" ]; then
    echo
    echo "callgrind: instructions of one '$PY work.py $CG_N' run with PYTHONMALLOC=malloc (no noise):"
    awk '$1 == "plain" { b = $2 } { c[NR] = $1; ir[NR] = $2; calls[NR] = $3; al[NR] = $4 }
        END {
            printf "  %-8s %15s %9s %14s %22s\n", "config", "instructions", "pt/plain", "pt__pl_malloc", "extra instr per alloc"
            for (i = 1; i <= NR; i++) {
                if (c[i] == "plain" || b == "") printf "  %-8s %15d %9s %14s %22s\n", c[i], ir[i], "1.000", calls[i], "-"
                else printf "  %-8s %15d %9.3f %14d %22s\n", c[i], ir[i], ir[i] / b, calls[i],
                    (al[i] > 0 ? sprintf("%.1f", (ir[i] - b) / al[i]) : "-")
            }
        }' "$T/cg.results"
    echo "  (extra instructions per allocation: (pt - plain) / the allocations pooltag counted; plain is glibc malloc)"
fi
echo
echo "machine: load average at the end $(cut -d' ' -f1-3 /proc/loadavg), CPU time stolen by the hypervisor $(steal_pct) %, $(($(date +%s) - t_start)) s"
if [ "$nfail" -gt 0 ]; then
    echo "runs without a result: $nfail"
    honest_fail=1
fi
if [ "$honest_fail" = 0 ]; then
    echo "honesty checks: all $nchecks passed (preload mapped and backend in effect in every pt process, none in plain; counts read back)"
    exit 0
fi
echo "honesty checks: FAILED (see above); the figures do not measure what they claim"
exit 1
