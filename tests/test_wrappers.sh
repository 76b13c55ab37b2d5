#!/usr/bin/env bash
# PT_WRAPPERS: allocations made inside a user-named wrapper are charged to
# the wrapper's caller.  wrap_prog allocates through my_xmalloc from
# caller_one (10 x 1000 B) and caller_two (10 x 3000 B).
set -u
P="$PT_BUILD/src/preload/libpooltag-preload.so"
prog="$PT_BUILD/tests/wrap_prog"
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$out"; }
trap cleanup EXIT
out=$(mktemp)
sites_of() { # env... -> prints `pooltag sites` for tag wrap
  pid=
  timeout 60 env "$@" LD_PRELOAD="$P" "$prog" > "$out" &
  local bg=$!
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  pid=$(head -1 "$out")
  "$POOLTAG" sites "$pid" wrap
  kill "$pid" 2>/dev/null; wait "$bg" 2>/dev/null; pid=
}
fail=0
with=$(sites_of PT_WRAPPERS='my_x*')
if grep -q 'caller_one' <<<"$with" && grep -q 'caller_two' <<<"$with" && ! grep -q 'my_xmalloc' <<<"$with" \
   && grep -E '^ +10 +0 +10 +30000 .*caller_two' <<<"$with" >/dev/null; then
  echo "ok   wrappers: sites are the callers"
else echo "FAIL wrappers:"; echo "$with"; fail=1; fi
without=$(sites_of X=1)
if grep -E '^ +20 +0 +20 +40000 .*my_xmalloc' <<<"$without" >/dev/null && ! grep -q caller_one <<<"$without"; then
  echo "ok   no wrappers: the site is my_xmalloc"
else echo "FAIL no wrappers:"; echo "$without"; fail=1; fi
# A function rule (PT_TAGS "func:GLOB TAG") tags what the function allocates.
rules=$(mktemp); printf 'func:my_x* Xmal\n' > "$rules"
timeout 60 env PT_TAGS="$rules" LD_PRELOAD="$P" "$prog" > "$out" &
bg=$!
for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
pid=$(head -1 "$out")
used=$("$POOLTAG" used "$pid")
kill "$pid" 2>/dev/null; wait "$bg" 2>/dev/null; pid=; rm -f "$rules"
if grep -E '^ Xmal +0 +0 +20 +40000 ' <<<"$used" >/dev/null; then
  echo "ok   function rule: my_xmalloc's blocks are tagged Xmal"
else echo "FAIL function rule:"; echo "$used"; fail=1; fi
exit $fail
