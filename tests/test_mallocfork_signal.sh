#!/usr/bin/env bash
# fork from signal handlers that interrupt malloc, free and fork itself
# (tests/mallocfork_signal.c) must not hang under the preload, with both
# backends: pooltag's fork handlers never wait for a lock that the
# interrupted code of the same thread holds.  300 forks each (about 1 s;
# the code before the fix hung in 8 of 8 runs); a hang is a timeout, and a
# failure.
set -u
P="$PT_BUILD/src/preload/libpooltag-preload.so"
prog="$PT_BUILD/tests/mallocfork_signal"
fail=0
for be in mimalloc libc; do
  out=$(timeout 20 env PT_BACKEND=$be LD_PRELOAD="$P" "$prog" 300 2>&1); st=$?
  if [ $st -eq 0 ] && grep -Eq '^ok [0-9]+$' <<<"$out"; then echo "ok   mallocfork ($be): $out"
  else echo "FAIL mallocfork ($be): status $st (124: hung)"; echo "$out" | head -5; fail=1; fi
done
exit $fail
