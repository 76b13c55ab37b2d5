#!/usr/bin/env bash
# Stacks, hit tags and pool tracking in the runtime (issue 11): the fixture
# rt_trace runs under the preload with PT_HIT / PT_VERIFY and checks its own
# segment (see rt_trace.c).  Usage: rt_trace.sh MODE
set -u
P="$PT_BUILD/src/preload/libpooltag-preload.so"
prog="$PT_BUILD/tests/rt_trace"
plug="$PT_BUILD/tests/librt_trace_plug.so"
fail=0
run() { # name expected-status stderr-regex env... -- args
  local name=$1 want=$2 re=$3; shift 3
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local out err
  err=$(mktemp)
  out=$(timeout 120 env "${envs[@]}" LD_PRELOAD="$P" "$prog" "$@" 2>"$err"); local st=$?
  if [ $st -ne "$want" ] || [ "$out" != ok ] || { [ -n "$re" ] && ! grep -Eq "$re" "$err"; }; then
    echo "FAIL $name (status $st, want $want):"; echo "$out" | head -5; head -20 "$err"; fail=1
  else echo "ok   $name"; fi
  LAST_ERR=$(cat "$err"); rm -f "$err"
}
case "${1:-}" in
chains)
  run chains 0 '' PT_HIT=Hitt -- chains
  run chains-libc 0 '' PT_HIT=Hitt PT_BACKEND=libc -- chains ;;
wrap)
  run wrap 0 '' PT_HIT=Hitt PT_HIT_RING=64 -- wrap
  # PT_HIT_TRAP without a debugger: one line with the gdb command, never fatal
  run trap 0 "^pooltag: hit 'Hitt' alloc 0x[0-9a-f]+ in thread [0-9]+: no debugger attached, going on; to stop here: gdb -p [0-9]+$" \
    PT_HIT=Hitt PT_HIT_RING=64 PT_HIT_TRAP=1 -- wrap
  n=$(grep -c '^pooltag: hit ' <<<"$LAST_ERR")
  if [ "$n" -ne 16 ] || ! grep -q 'further hit traps without a debugger are not shown' <<<"$LAST_ERR"; then
    echo "FAIL trap lines: $n"; fail=1; else echo "ok   trap-lines"; fi ;;
toggle)
  run toggle 0 '' X=1 -- toggle
  run toggle-libc 0 '' PT_BACKEND=libc -- toggle ;;
realloc)
  run realloc 0 '' X=1 -- realloc
  run realloc-libc 0 '' PT_BACKEND=libc -- realloc ;;
verify)
  re='^pooltag: .*/librt_trace_plug\.so unloaded with 3 blocks \(303 bytes\) outstanding$'
  run verify 0 "$re" PT_VERIFY='librt_trace_plug*' -- verify "$plug"
  # exactly one report, with its three blocks and their callers in the plugin
  if [ "$(grep -c 'outstanding$' <<<"$LAST_ERR")" -ne 1 ] ||
     [ "$(grep -Ec "^  0x[0-9a-f]+ 10[0-2] 'rt_.' caller librt_trace_plug\.so\+0x[0-9a-f]+$" <<<"$LAST_ERR")" -ne 3 ]; then
    echo "FAIL verify report:"; echo "$LAST_ERR"; fail=1; else echo "ok   verify-report"; fi
  run verify-fail-on-leak 1 'PT_FAIL_ON_LEAK=1: exit status 1' \
    PT_VERIFY='librt_trace_plug*' PT_FAIL_ON_LEAK=1 -- verify "$plug"
  # at exit: the verified program's own outstanding blocks, nothing else
  xre='^pooltag: .*/rt_trace at exit with 2 blocks \(155 bytes\) outstanding$'
  run exit-leak 0 "$xre" PT_VERIFY=rt_trace -- exitleak
  if [ "$(grep -c 'outstanding$' <<<"$LAST_ERR")" -ne 1 ] ||
     [ "$(grep -Ec "^  0x[0-9a-f]+ 7[78] 'rt_t' caller rt_trace\+0x[0-9a-f]+$" <<<"$LAST_ERR")" -ne 2 ]; then
    echo "FAIL exit-leak report:"; echo "$LAST_ERR"; fail=1; else echo "ok   exit-leak-report"; fi
  run exit-leak-fail 1 "$xre" PT_VERIFY=rt_trace PT_FAIL_ON_LEAK=1 -- exitleak
  # a verified program that frees everything: no report, status 0
  run clean-exit 0 '' PT_HIT=Hitt PT_VERIFY=rt_trace PT_FAIL_ON_LEAK=1 -- chains
  if grep -q 'outstanding' <<<"$LAST_ERR"; then
    echo "FAIL clean-exit reported: $LAST_ERR"; fail=1; else echo "ok   clean-exit-silent"; fi
  # the whole program verified (the stable switch for benchmarks): runs clean
  run verify-all 0 "$re" PT_VERIFY='*' -- verify "$plug" ;;
fork)
  run fork 0 '' PT_HIT=Hitt PT_VERIFY=nothing-here.so PT_STACK_DEPTH=7 -- fork ;;
*) echo "usage: rt_trace.sh chains|wrap|toggle|realloc|verify|fork" >&2; exit 2 ;;
esac
exit $fail
