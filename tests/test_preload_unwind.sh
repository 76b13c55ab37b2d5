#!/usr/bin/env bash
# Cancellation cleanups and C++ exceptions behave exactly as without the
# preload, with both backends (the unwinder stays libgcc_s's):
#  - a thread cancelled while blocked in fwrite on a full pipe leaves the
#    stream unlocked (glibc's cleanup ran): the next flockfile returns;
#  - a C program loads a C++ library whose thread is cancelled: the
#    destructors on that thread's stack run; an exception thrown and caught
#    across frames: the same output as the plain run.
# Each run has a timeout: a deadlock is a failure, not a hung CI.
set -u
P="$PT_BUILD/src/preload/libpooltag-preload.so"
T="$PT_BUILD/tests"
fail=0
run() { # env... -- cmd...: output and status (124: timed out)
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  timeout 10 env "${envs[@]}" "$@" 2>&1; echo "status $?"
}
expect_cxx='cancelled thread: 6 destructors
cancelled thread: 6 destructors
cancelled thread: 6 destructors
caught '"'"'deep 1'"'"' after 8 destructors
status 0'
plain_stdio=$(run X=1 -- "$T/unwind_cancel_stdio")
plain_cxx=$(run X=1 -- "$T/unwind_host" "$T/libunwind_cxx_lib.so")
# The programs themselves (the expectations hold without pooltag).
[ "$plain_stdio" = $'ok\nstatus 0' ] || { echo "FAIL plain stdio run: $plain_stdio"; fail=1; }
[ "$plain_cxx" = "$expect_cxx" ] || { echo "FAIL plain C++ run:"; echo "$plain_cxx"; fail=1; }
for be in mimalloc libc; do
  out=$(run PT_BACKEND=$be LD_PRELOAD="$P" -- "$T/unwind_cancel_stdio")
  if [ "$out" = "$plain_stdio" ]; then echo "ok   cancel-fwrite ($be)"
  else echo "FAIL cancel-fwrite ($be): the cancelled writer kept the stream's lock (124: deadlock)"
       echo "$out"; fail=1; fi
  out=$(run PT_BACKEND=$be LD_PRELOAD="$P" -- "$T/unwind_host" "$T/libunwind_cxx_lib.so")
  if [ "$out" = "$plain_cxx" ]; then echo "ok   cancel-cxx and exceptions ($be)"
  else echo "FAIL cancel-cxx and exceptions ($be): plain"; echo "$plain_cxx"
       echo "under the preload:"; echo "$out"; fail=1; fi
done
exit $fail
