#!/usr/bin/env bash
# Cancellation cleanups and C++ exceptions behave exactly as without the
# preload, with both backends (the unwinder stays libgcc_s's):
#  - a thread cancelled while blocked in fwrite on a full pipe leaves the
#    stream unlocked (glibc's cleanup ran): the next flockfile returns;
#  - a C program loads a C++ library whose thread is cancelled: the
#    destructors on that thread's stack run; an exception thrown and caught
#    across frames: the same output as the plain run.
# With PT_BEHALF too (stack walks, libunwind.so.8 loaded privately).
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
# With --behalf the preload walks stacks, with libunwind.so.8 loaded
# privately (RTLD_LOCAL): it must not become the program's unwinder either.
for be in mimalloc libc; do
  for opt in X=1 'PT_BEHALF=unwind_cancel_stdio,libunwind_cxx_lib*'; do
    what=$be; [ "$opt" = X=1 ] || what="$be, --behalf"
    out=$(run PT_BACKEND=$be "$opt" LD_PRELOAD="$P" -- "$T/unwind_cancel_stdio")
    if [ "$out" = "$plain_stdio" ]; then echo "ok   cancel-fwrite ($what)"
    else echo "FAIL cancel-fwrite ($what): the cancelled writer kept the stream's lock (124: deadlock)"
         echo "$out"; fail=1; fi
    out=$(run PT_BACKEND=$be "$opt" LD_PRELOAD="$P" -- "$T/unwind_host" "$T/libunwind_cxx_lib.so")
    if [ "$out" = "$plain_cxx" ]; then echo "ok   cancel-cxx and exceptions ($what)"
    else echo "FAIL cancel-cxx and exceptions ($what): plain"; echo "$plain_cxx"
         echo "under the preload:"; echo "$out"; fail=1; fi
  done
done
# The --behalf runs above did walk with libunwind (when it is installed).
if [ -e /usr/lib/x86_64-linux-gnu/libunwind.so.8 ] || [ -e /lib/x86_64-linux-gnu/libunwind.so.8 ]; then
  if LD_DEBUG=files timeout 10 env PT_BEHALF='libunwind_cxx_lib*' LD_PRELOAD="$P" \
       "$T/unwind_host" "$T/libunwind_cxx_lib.so" 2>&1 | grep -q 'file=libunwind.so.8 .*dynamically loaded by .*libpooltag-preload'
  then echo "ok   --behalf loads libunwind.so.8 itself"
  else echo "FAIL --behalf did not load libunwind.so.8"; fail=1; fi
fi
exit $fail
