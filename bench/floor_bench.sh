#!/usr/bin/env bash
# floor_bench.sh — the least any per-block-header design costs (a 16-byte
# header and two thread-local counters, inlined, nothing else) next to what
# pooltag's preload costs, on one workload (bench/floor_bench.c).
#
# usage: bench/floor_bench.sh [--runs N] [--ops N] [--no-callgrind] [--quick] [--preload SO]
#   --runs N        interleaved rounds (default 7)
#   --ops N         timed operations (free + malloc) per run (default 4000000)
#   --no-callgrind  skip the instruction counts
#   --quick         2 rounds of 200000 operations, callgrind on 20000/60000
#   --preload SO    libpooltag-preload.so (default build-release/, else build/)
# Prints per configuration the median CPU time per operation (min-max over
# the rounds), its ratio to bare mimalloc (glibc for pt-libc), and the
# instructions per operation from callgrind (the difference of two run
# lengths, so start-up and exit cancel out): a figure the machine's noise
# does not move.
set -u
here=$(cd "$(dirname "$0")" && pwd); root=$(dirname "$here")
runs=7; ops=4000000; cg=1; PL=
die() { echo "floor_bench: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --runs) [ $# -ge 2 ] || die "missing value for --runs"; runs=$2; shift 2 ;;
    --ops) [ $# -ge 2 ] || die "missing value for --ops"; ops=$2; shift 2 ;;
    --no-callgrind) cg=0; shift ;;
    --quick) runs=2; ops=200000; quick=1; shift ;;
    --preload) [ $# -ge 2 ] || die "missing value for --preload"; PL=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case $runs in ''|*[!0-9]*) die "--runs wants a number, not '$runs'" ;; esac
case $ops in ''|*[!0-9]*) die "--ops wants a number, not '$ops'" ;; esac
[ "$runs" -ge 1 ] && [ "$ops" -ge 1000 ] || die "--runs >= 1 and --ops >= 1000"
if [ -z "$PL" ]; then
  for d in "$root/build-release" "$root/build"; do
    [ -f "$d/src/preload/libpooltag-preload.so" ] && { PL=$d/src/preload/libpooltag-preload.so; break; }
  done
fi
[ -f "${PL:-}" ] || die "no libpooltag-preload.so (build first, or --preload SO)"
MI=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
[ -f "$MI" ] || die "libmimalloc.so.2 missing (scripts/deps.sh)"
b=$(mktemp -d); trap 'rm -rf "$b"' EXIT
for v in 0 1 2 3; do
  gcc -O2 -DVARIANT=$v -o "$b/v$v" "$here/floor_bench.c" -lmimalloc || die "build failed"
done
gcc -O2 -DVARIANT=4 -o "$b/v4" "$here/floor_bench.c" || die "build failed"
pld=$(dirname "$PL")
gcc -O2 -DVARIANT=4 -o "$b/v4pt" "$here/floor_bench.c" -L"$pld" -l:libpooltag-preload.so \
    -Wl,-rpath,"$pld" || die "build failed"

configs="bare pad16 header counted mimalloc pt-mi glibc pt-libc"
cmd() { # cmd CONFIG -> command words
  case $1 in
    bare) echo "$b/v0" ;; pad16) echo "$b/v1" ;; header) echo "$b/v2" ;; counted) echo "$b/v3" ;;
    mimalloc) echo "env LD_PRELOAD=$MI $b/v4" ;;
    pt-mi) echo "env PT_BACKEND=mimalloc LD_PRELOAD=$PL $b/v4" ;;
    glibc) echo "$b/v4" ;;
    pt-libc) echo "env PT_BACKEND=libc LD_PRELOAD=$PL $b/v4" ;;
  esac
}
: > "$b/times"
for r in $(seq "$runs"); do
  set -- $configs; n=$#; k=$(( (r - 1) % n ))   # rotate the order every round
  order="${*:k+1} ${*:1:k}"
  for c in $order; do
    out=$($(cmd "$c") "$ops") || die "$c failed"
    ns=${out#*cpu_ns=}; ns=${ns%% *}
    echo "$c $ns" >> "$b/times"
  done
done
stat() { # stat CONFIG -> "median min max" in ns per op
  awk -v c="$1" -v o="$ops" '$1==c{print $2/o}' "$b/times" | sort -g |
    awk '{v[NR]=$1} END{printf "%.2f %.2f %.2f", v[int((NR+1)/2)], v[1], v[NR]}'
}
declare -A med ins
for c in $configs; do med[$c]=$(stat "$c"); done

icount() { # icount CONFIG -> instructions per operation
  local c=$1 n1 n2 a z pre="" bin
  if [ "${quick:-0}" = 1 ]; then n1=20000; n2=60000; else n1=200000; n2=1200000; fi
  case $c in
    mimalloc) pre="LD_PRELOAD=$MI"; bin=$b/v4 ;;
    pt-mi) pre="PT_BACKEND=mimalloc"; bin=$b/v4pt ;;
    pt-libc) pre="PT_BACKEND=libc"; bin=$b/v4pt ;;
    glibc) bin=$b/v4 ;;
    *) bin=$(cmd "$c") ;;
  esac
  for n in $n1 $n2; do
    env $pre valgrind --tool=callgrind --callgrind-out-file="$b/cg.$n" "$bin" "$n" \
        >/dev/null 2>"$b/cg.err" || { echo "-"; return; }
    case $c in pt-*) grep -q "pt__pl_malloc" "$b/cg.$n" || { echo "inactive"; return; } ;; esac
    eval "i$n=\$(awk '/^summary:/{print \$2}' \"$b/cg.$n\")"
  done
  eval "a=\$i$n1; z=\$i$n2"
  awk -v a="$a" -v z="$z" -v n1=$n1 -v n2=$n2 'BEGIN{printf "%.0f", (z-a)/(n2-n1)}'
}
if [ $cg = 1 ] && command -v valgrind >/dev/null; then
  for c in $configs; do ins[$c]=$(icount "$c"); done
fi
printf '%-9s %12s %15s %8s %10s\n' config "ns/op" "(min-max)" ratio "instr/op"
for c in $configs; do
  set -- ${med[$c]}
  base=bare; case $c in glibc|pt-libc) base=glibc ;; esac
  set -- ${med[$c]} ${med[$base]}
  printf '%-9s %12s %15s %8s %10s\n' "$c" "$1" "($2-$3)" \
    "$(awk -v a="$1" -v b="$4" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')" "${ins[$c]:-}"
done
echo "ratio: median CPU time per operation over bare mimalloc (pt-libc, glibc: over glibc);"
echo "runs=$runs ops=$ops; instr/op: callgrind, preload linked in (valgrind drops LD_PRELOAD)"
