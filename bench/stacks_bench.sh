#!/usr/bin/env bash
# stacks_bench.sh — what call stacks cost (issue 11 item 6): pooltag's hit
# tags and pool tracking against heaptrack and valgrind memcheck, and what
# the features cost when they are switched off.
#
# The reference workload ../shared/bench/alloc_bench.c (T threads, a
# malloc/free mix over a sliding window of 1,000 live blocks per thread,
# sizes 8 B-64 KiB, 16 blocks per thread leaked at the end) is compiled
# here with -O2 and run, at 1 and 2 threads, under:
#
#   glibc       nothing: plain glibc malloc                       (the base)
#   pt-base     the preload built at the branch point i11-base    ($PT_BASE)
#   pt-off      the preload of this tree, hit and verify off
#   pt-hit1     ... PT_HIT=ld-l: hit on one tag of the program, the dynamic
#               loader's (one allocation at start-up, none in the timed loop)
#   pt-verify   ... PT_VERIFY=alloc_bench: the main executable verified, so a
#               stack (depth PT_STACK_DEPTH, default 32) is captured and a
#               tracked record and a log record written for every
#               allocation, and a log record for every free
#   heaptrack   heaptrack -o TMP/ht (Debian's heaptrack)
#   memcheck    valgrind -q --leak-check=full, over OPS/MEMCHECK_DIV
#               operations and scaled (see below)
#
# and a many-tag variant of the same workload through the pt_alloc API
# (bench/stacks_manytags.h: 16 tags in turn, plus a tag "Bhit" with one
# allocation before main), linked with libpooltag.so:
#
#   mt-base     libpooltag.so of the branch point                 ($PT_BASE)
#   mt-off      libpooltag.so of this tree
#   mt-hit1     ... PT_HIT=Bhit: hit on one tag, every timed allocation is
#               one of the 16 other tags
#
# Every configuration runs once per round, in an order that rotates from
# round to round; a round runs both thread counts.  Each figure is the
# per-round ratio to another configuration of the same round (glibc, or the
# one named), the median of those ratios and their range over the rounds,
# from wall time and from CPU time (user + system, children included:
# heaptrack's interpreter process counts).  Whole-process times: start-up
# and the exit leak check are included for everyone.
#
# memcheck is ~25-45x slower, so it runs OPS/MEMCHECK_DIV operations, and
# once with 1 operation (its start-up, the leak check and exit); its figure
# for OPS operations is start + (t - start) * MEMCHECK_DIV.
#
# Usage: bench/stacks_bench.sh [--rounds N] [--ops N] [--threads "1 2"]
#                              [--memcheck-div N] [--quick] [--only LIST]
# Environment: PT_BUILD (build tree, default build-release/ if it has the
# preload, else build/), PT_BASE (build tree of the branch point, default
# /tmp/base11/build-release), PT_SHARED (default ../shared beside the
# project).  Other PT_* variables apply to the pooltag runs and are listed.
# Exits 0 whatever the numbers; 1 when a run failed; 2 on bad usage or
# when something it needs is missing.
set -u
usage() {
    cat <<'EOF'
usage: stacks_bench.sh [--rounds N] [--ops N] [--threads "1 2"] [--memcheck-div N]
                       [--quick] [--only CONFIG,...]
  --rounds N        rounds, every configuration once per round (default 5)
  --ops N           malloc/free operations per thread (default 2000000)
  --threads LIST    thread counts (default "1 2")
  --memcheck-div N  memcheck runs OPS/N operations, scaled (default 20)
  --quick           1 round of 200000 operations (memcheck 50000): checks that it runs
  --only LIST       configurations to run (glibc is always run), from:
                    pt-base pt-off pt-hit1 pt-verify heaptrack memcheck
                    mt-base mt-off mt-hit1
EOF
}
ALL="glibc pt-base pt-off pt-hit1 pt-verify heaptrack memcheck mt-base mt-off mt-hit1"
rounds=5 ops=2000000 threads="1 2" mdiv=20 only='' window=1000 leak=16
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=${2:-}; shift 2 ;;
        --ops) ops=${2:-}; shift 2 ;;
        --threads) threads=${2:-}; shift 2 ;;
        --memcheck-div) mdiv=${2:-}; shift 2 ;;
        --quick) rounds=1; ops=200000; mdiv=4; shift ;;
        --only) only=${2:-}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "stacks_bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
posint() { case $2 in ''|*[!0-9]*|0*) echo "stacks_bench.sh: $1 wants a positive number, not '$2'" >&2; exit 2 ;; esac; }
posint --rounds "$rounds"
posint --ops "$ops"
posint --memcheck-div "$mdiv"
for t in $threads; do posint --threads "$t"; done
[ -n "$threads" ] || { echo "stacks_bench.sh: --threads wants a list of thread counts" >&2; exit 2; }
[ "$ops" -ge "$mdiv" ] || { echo "stacks_bench.sh: --ops must be at least --memcheck-div" >&2; exit 2; }
configs=$ALL
if [ -n "$only" ]; then
    configs=glibc
    for c in ${only//,/ }; do
        case " $ALL " in *" $c "*) ;; *) echo "stacks_bench.sh: --only: unknown configuration '$c'" >&2; exit 2 ;; esac
        [ "$c" = glibc ] || configs="$configs $c"
    done
fi

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
if [ -z "${PT_BUILD:-}" ]; then
    PT_BUILD=$src/build
    [ -f "$src/build-release/src/preload/libpooltag-preload.so" ] && PT_BUILD=$src/build-release
fi
PT_BASE=${PT_BASE:-/tmp/base11/build-release}
PT_SHARED=${PT_SHARED:-$src/../shared}
WORKLOAD=$PT_SHARED/bench/alloc_bench.c
PRELOAD=$PT_BUILD/src/preload/libpooltag-preload.so
LIBDIR=$PT_BUILD/src/runtime
BASE_PRELOAD=$PT_BASE/src/preload/libpooltag-preload.so
BASE_LIBDIR=$PT_BASE/src/runtime
POOLTAG=${POOLTAG:-$PT_BUILD/src/cli/pooltag}

die() { echo "stacks_bench.sh: $*" >&2; exit 2; }
[ -f "$WORKLOAD" ] || die "the reference workload $WORKLOAD is missing (set PT_SHARED)"
[ -f "$PRELOAD" ] || die "$PRELOAD not built (make release, or set PT_BUILD)"
[ -f "$LIBDIR/libpooltag.so" ] || die "$LIBDIR/libpooltag.so not built"
command -v gcc >/dev/null || die "gcc is missing"

B=$(mktemp -d /tmp/pt_stacks_bench_XXXXXX)
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { rm -rf "$B"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start_s=$(date +%s)

# The workload's binary is called alloc_bench: the preload tags its blocks
# with its module's automatic tag and PT_VERIFY=alloc_bench verifies it.
gcc -O2 -pthread -o "$B/alloc_bench" "$WORKLOAD" || die "cannot compile $WORKLOAD"
gcc -O2 -pthread -I"$src/include" -include "$here/stacks_manytags.h" \
    -o "$B/alloc_bench_mt" "$WORKLOAD" -L"$LIBDIR" -lpooltag ||
    die "cannot compile the many-tag variant of $WORKLOAD"

# Which rows can run: each missing piece turns its rows into "n/a (why)".
declare -A NA
have_base=1
if [ ! -f "$BASE_PRELOAD" ] || [ ! -f "$BASE_LIBDIR/libpooltag.so" ]; then
    have_base=0
    NA[pt-base]="not built: git worktree add /tmp/base11 i11-base and build release there (or set PT_BASE)"
    NA[mt-base]=${NA[pt-base]}
fi
command -v heaptrack >/dev/null || NA[heaptrack]="heaptrack not installed (scripts/deps.sh)"
command -v valgrind >/dev/null || NA[memcheck]="valgrind not installed (scripts/deps.sh)"

# Does this build capture stacks?  Verify the workload with 3 blocks leaked
# per thread: a runtime that tracks blocks reports them at exit on stderr.
env LD_PRELOAD="$PRELOAD" PT_VERIFY=alloc_bench "$B/alloc_bench" 1 20000 "$window" 3 \
    >"$B/probe.out" 2>"$B/probe.err"
probe_rc=$?
if [ "$probe_rc" != 0 ] || ! grep -q 'outstanding' "$B/probe.err"; then
    why="not built: PT_VERIFY=alloc_bench reported no outstanding blocks at exit (the runtime of issue 11 is not in this build)"
    [ "$probe_rc" != 0 ] && why="PT_VERIFY=alloc_bench run failed with status $probe_rc: $(head -c 200 "$B/probe.err")"
    NA[pt-verify]=$why
    NA[pt-hit1]=$why
    NA[mt-hit1]=$why
fi

echo "stacks_bench: call stacks (hit, verify) against heaptrack and memcheck; $rounds round(s), order rotated each round"
echo "  workload  $WORKLOAD: ops=$ops per thread, window=$window, leak=$leak per thread; memcheck ops/$mdiv, scaled"
echo "  preload   $PRELOAD"
echo "  base      ${PT_BASE} ($([ "$have_base" = 1 ] && git -C "$PT_BASE" log -1 --format='%h %s' 2>/dev/null | cut -c1-60 || echo missing))"
b=$(env LD_PRELOAD="$PRELOAD" PT_VERBOSE=1 /bin/true 2>&1 | awk '/PT_BACKEND=/{ print $1 }')
echo "  pooltag   ${b:-PT_BACKEND not reported by PT_VERBOSE}; $(env LD_PRELOAD="$PRELOAD" PT_VERBOSE=1 /bin/true 2>&1 | awk '/PT_STACK_DEPTH=/{ print $1 }')"
for v in $(compgen -e | grep '^PT_' | grep -vE '^PT_(BUILD|BASE|SHARED)$' || true); do
    echo "  environment: $v=${!v}"
done
echo "  machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $configs; do
    [ -n "${NA[$c]:-}" ] && echo "  $c: n/a (${NA[$c]})"
done

# cmd CONFIG T N: the command line of one run, in the array CMD.
cmd() {
    local c=$1 t=$2 n=$3
    local ab=("$B/alloc_bench" "$t" "$n" "$window" "$leak")
    local mt=("$B/alloc_bench_mt" "$t" "$n" "$window" "$leak")
    case $c in
        glibc) CMD=(env -u LD_PRELOAD "${ab[@]}") ;;
        pt-base) CMD=(env LD_PRELOAD="$BASE_PRELOAD" "${ab[@]}") ;;
        pt-off) CMD=(env LD_PRELOAD="$PRELOAD" "${ab[@]}") ;;
        pt-hit1) CMD=(env LD_PRELOAD="$PRELOAD" PT_HIT=ld-l "${ab[@]}") ;;
        pt-verify) CMD=(env LD_PRELOAD="$PRELOAD" PT_VERIFY=alloc_bench "${ab[@]}") ;;
        heaptrack) CMD=(env -u LD_PRELOAD heaptrack -o "$B/ht" "${ab[@]}") ;;
        memcheck) CMD=(env -u LD_PRELOAD valgrind -q --leak-check=full "${ab[@]}") ;;
        mt-base) CMD=(env LD_LIBRARY_PATH="$BASE_LIBDIR" "${mt[@]}") ;;
        mt-off) CMD=(env LD_LIBRARY_PATH="$LIBDIR" "${mt[@]}") ;;
        mt-hit1) CMD=(env LD_LIBRARY_PATH="$LIBDIR" PT_HIT=Bhit "${mt[@]}") ;;
    esac
}

failed=0
# The runner: runs a command, its output to run.out/run.err, and prints
# "wall_s cpu_s maxrss_kB status" (CPU time of the command and all its
# children, from getrusage in microseconds; wall time around the child only).
cat >"$B/runner.py" <<'PYEOF'
import os, resource, subprocess, sys, time
out, err = open(sys.argv[1], "wb"), open(sys.argv[2], "wb")
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
rc = subprocess.call(sys.argv[3:], stdout=out, stderr=err, stdin=subprocess.DEVNULL)
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print("%.6f %.6f %d %d" % (t1 - t0, cpu, r1.ru_maxrss, rc))
PYEOF
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || die "python3 is missing"
# run1 ROUND CONFIG T N LABEL: one timed run; appends
# "LABEL T ROUND wall_s cpu_s maxrss_kB" to $B/times.
run1() {
    local r=$1 c=$2 t=$3 n=$4 label=$5 w cp m rc
    cmd "$c" "$t" "$n"
    read -r w cp m rc < <("$PY" "$B/runner.py" "$B/run.out" "$B/run.err" "${CMD[@]}")
    if [ "${rc:-1}" != 0 ] || ! grep -q '^threads=' "$B/run.out"; then
        echo "  FAILED: $label, $t thread(s), round $r: status ${rc:-?}: $(tail -c 300 "$B/run.err")"
        failed=1
        return 1
    fi
    rm -rf "$B"/ht*
    echo "$label $t $r $w $cp $m" >>"$B/times"
}

# --- the timed rounds --------------------------------------------------------
read -ra order <<<"$configs"
nc=${#order[@]}
mops=$((ops / mdiv))
for ((r = 1; r <= rounds; r++)); do
    for t in $threads; do
        for ((i = 0; i < nc; i++)); do
            c=${order[$(( (i + r - 1) % nc ))]}
            [ -n "${NA[$c]:-}" ] && continue
            if [ "$c" = memcheck ]; then
                run1 "$r" memcheck "$t" "$mops" memcheck-part
                run1 "$r" memcheck "$t" 1 memcheck-start
            else
                run1 "$r" "$c" "$t" "$ops" "$c"
            fi
        done
    done
    echo "  round $r of $rounds done ($(( $(date +%s) - start_s )) s, load $(cut -d' ' -f1 /proc/loadavg))"
done

# memcheck for OPS operations: start + (part - start) * MDIV, per round.
awk -v d="$mdiv" '
    $1 == "memcheck-part" { w[$2 " " $3] = $4; c[$2 " " $3] = $5; m[$2 " " $3] = $6 }
    $1 == "memcheck-start" { sw[$2 " " $3] = $4; sc[$2 " " $3] = $5 }
    END { for (k in w) if (k in sw) {
              split(k, a, " ")
              printf "memcheck %s %s %.6f %.3f %s\n", a[1], a[2],
                  sw[k] + (w[k] - sw[k]) * d, sc[k] + (c[k] - sc[k]) * d, m[k] } }' \
    "$B/times" >"$B/memcheck.times" 2>/dev/null
cat "$B/memcheck.times" >>"$B/times"

# stat A B T COL: per-round ratios A/B (column COL: 4 wall, 5 cpu) at T
# threads: "median min max n", or nothing.
stat() {
    awk -v a="$1" -v b="$2" -v t="$3" -v col="$4" '
        $2 == t && $1 == a { x[$3] = $col }
        $2 == t && $1 == b { y[$3] = $col }
        END { n = 0; for (r in x) if ((r in y) && y[r] > 0) v[++n] = x[r] / y[r]
              if (!n) exit
              for (i = 2; i <= n; i++) { k = v[i]; for (j = i - 1; j >= 1 && v[j] > k; j--) v[j + 1] = v[j]; v[j + 1] = k }
              med = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
              printf "%.3f %.3f %.3f %d\n", med, v[1], v[n], n }' "$B/times"
}
# medcol C T COL: the median of column COL of configuration C at T threads.
medcol() {
    awk -v c="$1" -v t="$2" -v col="$3" '$1 == c && $2 == t { print $col }' "$B/times" |
        sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

echo
echo "Every ratio: median over the rounds of the per-round ratio, [lowest-highest]."
for t in $threads; do
    echo
    printf '%-10s %3s %9s %8s %9s %-15s %8s %-15s %9s\n' config thr "wall s" "cpu s" "wall" "/glibc range" "cpu" "/glibc range" "maxRSS MB"
    for c in $configs; do
        if [ -n "${NA[$c]:-}" ]; then
            printf '%-10s %3s %s\n' "$c" "$t" "n/a (${NA[$c]%%:*})"
            continue
        fi
        w=$(medcol "$c" "$t" 4) cp=$(medcol "$c" "$t" 5) m=$(medcol "$c" "$t" 6)
        if [ -z "$w" ]; then
            printf '%-10s %3s %s\n' "$c" "$t" "no successful run"
            continue
        fi
        read -r wr wlo whi _ <<<"$(stat "$c" glibc "$t" 4)"
        read -r cr clo chi _ <<<"$(stat "$c" glibc "$t" 5)"
        printf '%-10s %3s %9.3f %8.3f %9s %-15s %8s %-15s %9.1f\n' "$c" "$t" "$w" "$cp" \
            "${wr:--}" "[${wlo:--}-${whi:--}]" "${cr:--}" "[${clo:--}-${chi:--}]" "$(awk -v m="$m" 'BEGIN { print m / 1024 }')"
    done
done

# target LABEL A B T OP LIMIT: one ratio line, PASS/MISS decided on wall time.
target() {
    local label=$1 a=$2 b=$3 t=$4 op=$5 lim=$6 w c res
    if ! case " $configs " in *" $a "*) true ;; *) false ;; esac ||
       ! case " $configs " in *" $b "*) true ;; *) false ;; esac; then
        printf '%-44s %s\n' "$label" "not run (--only)"
        return
    fi
    if [ -n "${NA[$a]:-}" ] || [ -n "${NA[$b]:-}" ]; then
        printf '%-44s %s\n' "$label" "n/a"
        return
    fi
    read -r w wlo whi _ <<<"$(stat "$a" "$b" "$t" 4)"
    read -r c clo chi _ <<<"$(stat "$a" "$b" "$t" 5)"
    if [ -z "${w:-}" ]; then
        printf '%-44s %s\n' "$label" "no data"
        return
    fi
    if [ "$op" = ref ]; then
        op='' lim='' res=ref
    else
        res=$(awk -v v="$w" -v l="$lim" -v op="$op" 'BEGIN { print ((op == "<=" ? v <= l : v >= l) ? "PASS" : "MISS") }')
    fi
    printf '%-44s %7s %-13s %2s %5s %-4s %7s %s\n' "$label" "$w" "[$wlo-$whi]" "$op" "$lim" "$res" "$c" "[$clo-$chi]"
}
echo
printf '%-44s %7s %-13s %8s %-4s %7s %s\n' ratio wall range target result cpu range
for t in $threads; do
    th="$t thread"; [ "$t" = 1 ] || th="${th}s"
    lim=1.9; [ "$t" = 1 ] || lim=4.4
    target "pt-verify / glibc, $th" pt-verify glibc "$t" "<=" "$lim"
    target "heaptrack / pt-verify, $th" heaptrack pt-verify "$t" ">=" 3
    target "memcheck / pt-verify, $th" memcheck pt-verify "$t" ">=" 10
    target "heaptrack / glibc, $th" heaptrack glibc "$t" ref -
    target "memcheck / glibc, $th" memcheck glibc "$t" ref -
    target "pt-off / pt-base (preload), $th" pt-off pt-base "$t" "<=" 1.01
    target "mt-off / mt-base (API, 16 tags), $th" mt-off mt-base "$t" "<=" 1.01
    target "pt-hit1 / pt-off (preload), $th" pt-hit1 pt-off "$t" "<=" 1.02
    target "mt-hit1 / mt-off (API, 16 tags), $th" mt-hit1 mt-off "$t" "<=" 1.02
done
echo "(ref: no target, the peers' own figure.  PASS/MISS is decided on the wall-time ratio.)"

# --- memory ------------------------------------------------------------------
# What the stack table, the rings and the tracked records hold, read from
# the segment of a verified run while it runs (`pooltag verify PID --json`).
echo
if [ -n "${NA[pt-verify]:-}" ] || ! case " $configs " in *" pt-verify "*) true ;; *) false ;; esac; then
    echo "memory: n/a (pt-verify not run)"
else
    for t in $threads; do
        for c in glibc pt-off pt-verify; do
            m=$(medcol "$c" "$t" 6)
            [ -n "$m" ] && printf 'max RSS, %s thread(s), %-10s %8.1f MB\n' "$t" "$c" "$(awk -v m="$m" 'BEGIN { print m / 1024 }')"
        done
    done
    if [ -x "$POOLTAG" ] && "$POOLTAG" verify --help >/dev/null 2>&1 &&
       "$POOLTAG" hit --help >/dev/null 2>&1; then
        # A verified 2-thread run, long enough to be read while it runs:
        # its segment's counters through the verbs (hit --show: the stack
        # table and hit ring; verify: the blocks tracked now; verify
        # --address: the verify log), and the resident size of the segment
        # mapping (memfd:pooltag) from /proc/PID/smaps.
        big=$((ops * 50)); [ "$big" -ge 50000000 ] || big=50000000
        # sample NAME ENV...: runs the workload (2 threads) with ENV under the
        # preload, and ~0.5 s in records the segment mapping's Size and Rss
        # (kB) into $B/NAME.smaps and VmRSS into $B/NAME.rss; with NAME
        # "mem" also the verbs' JSON.  Sets got=1 when it read everything.
        sample() {
            local name=$1 mpid i rc
            shift
            got=0
            env LD_PRELOAD="$PRELOAD" "$@" "$B/alloc_bench" 2 "$big" "$window" "$leak" \
                >"$B/$name.out" 2>"$B/$name.err" &
            mpid=$!
            for ((i = 0; i < 100; i++)); do
                sleep 0.1
                kill -0 "$mpid" 2>/dev/null || break
                [ "$i" -ge 5 ] || continue
                grep -q 'memfd:pooltag' "/proc/$mpid/maps" 2>/dev/null || continue
                awk '/^[0-9a-f]+-[0-9a-f]+ / { on = ($0 ~ /memfd:pooltag/) }
                     on && /^(Size|Rss):/ { s[$1] += $2 }
                     END { printf "%d %d\n", s["Size:"], s["Rss:"] }' "/proc/$mpid/smaps" >"$B/$name.smaps" 2>/dev/null
                awk '/^VmRSS:/ { print $2 }' "/proc/$mpid/status" >"$B/$name.rss" 2>/dev/null
                rc=0
                if [ "$name" = mem ]; then
                    timeout 20 "$POOLTAG" hit --show "$mpid" --json >"$B/mem.hit.json" 2>"$B/mem.jerr" &&
                        timeout 20 "$POOLTAG" verify "$mpid" --json >"$B/mem.verify.json" 2>>"$B/mem.jerr" &&
                        timeout 20 "$POOLTAG" verify "$mpid" --address 0x10 --json >"$B/mem.log.json" 2>>"$B/mem.jerr"
                    rc=$?
                fi
                # verify exits 1 when leaks were reported: none while it runs.
                [ "$rc" = 0 ] && { got=1; break; }
            done
            kill "$mpid" 2>/dev/null
            wait "$mpid" 2>/dev/null
        }
        sample off
        if [ "$got" = 1 ]; then
            read -r osz orss <"$B/off.smaps"
            echo "segment of a 2-thread run with hit and verify off: mapping (memfd:pooltag) $((osz / 1024)) MB reserved, $orss kB resident; process VmRSS $(cat "$B/off.rss") kB"
        fi
        sample mem PT_VERIFY=alloc_bench
        rss=$(cat "$B/mem.rss" 2>/dev/null)
        if [ "$got" = 1 ]; then
            echo "segment of a verified 2-thread run (PT_VERIFY=alloc_bench), read ~0.5 s in; process VmRSS ${rss:-?} kB:"
            "$PY" - "$B" <<'PYEOF' || echo "  (could not read the figures: see the verbs' --json output)"
import json, sys
d = sys.argv[1]
hit = json.load(open(d + "/mem.hit.json"))
ver = json.load(open(d + "/mem.verify.json"))
log = json.load(open(d + "/mem.log.json"))
st, ring, lg = hit["stacks"], hit["ring"], log["log"]
tracked = sum(m["pools"][p]["current_allocations"] for m in ver["modules"] for p in m["pools"])
size_kb, rss_kb = [int(x) for x in open(d + "/mem.smaps").read().split()]
def used(r):  # records written into a ring's slots: min(head - first, size)
    return min(r["head"] - r.get("first", 0), r["size"])
print("  stack table: %d captures, %d unique stacks in %d slots (%d B used: 8 B a slot), %d dropped, %d truncated at the depth"
      % (st["captures"], st["used"], st["capacity"], 8 * st["used"], st["dropped"], st["truncated"]))
print("  frames: not shown by the verbs (16 x 8 B reserved per table slot, touched only as used)")
print("  verify log: %d records written, %d slots of %d in use (48 B each: %.1f KB)"
      % (lg["head"], used(lg), lg["capacity"], 48 * used(lg) / 1024.0))
print("  hit ring: %d records written, %d slots in use of %d (48 B each: %.1f KB)"
      % (ring["head"], used(ring), ring["capacity"], 48 * used(ring) / 1024.0))
print("  tracked blocks now: %d (48 B each: %.1f KB), %d not listed (table full)"
      % (tracked, 48 * tracked / 1024.0, ver.get("tracked_dropped", -1)))
print("  segment mapping (memfd:pooltag): %.1f MB reserved, %.1f MB resident" % (size_kb / 1024.0, rss_kb / 1024.0))
PYEOF
        else
            echo "memory: could not read the segment of the verified run: $(head -c 300 "$B/mem.jerr" 2>/dev/null)"
        fi
    else
        echo "memory: segment counters n/a (pooltag hit / verify not built)"
    fi
fi
echo
echo "stacks_bench: done in $(( $(date +%s) - start_s )) s"
exit "$failed"
