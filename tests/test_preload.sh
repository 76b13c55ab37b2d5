#!/usr/bin/env bash
# The preload on small programs of ours: tags, wrappers, aligned entry
# points, foreign blocks, threads, fork, signals, dlopen, C++ operators,
# caller errors, rules files and LD_PRELOAD for children.
set -u
P="$PT_BUILD/src/preload/libpooltag-preload.so"
prog="$PT_BUILD/tests/preload_prog"
fail=0
run() { # name expect-regex env... -- args
  local name=$1 re=$2; shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done; shift
  local out
  out=$(timeout 60 env "${envs[@]}" LD_PRELOAD="$P" "$@" 2>&1); local st=$?
  if [ $st -ne 0 ] || ! grep -Eq "$re" <<<"$out"; then
    echo "FAIL $name (status $st):"; echo "$out" | head -20; fail=1
  else echo "ok   $name"; fi
}
for c in basic wrappers aligned foreign threads fork signal; do
  run "$c" '^ok$' X=1 -- "$prog" "$c"
  run "$c-libc" '^ok$' PT_BACKEND=libc -- "$prog" "$c"
done
run dlopen '^ok$' PLUGIN="$PT_BUILD/tests/libptplug.so" -- "$prog" dlopen
run cxx '^ok$' X=1 -- "$PT_BUILD/tests/preload_cxx"
run cxx-libc '^ok$' PT_BACKEND=libc -- "$PT_BUILD/tests/preload_cxx"
run doublefree "double free: address 0x[0-9a-f]+, tag 'prel'" X=1 -- "$prog" doublefree
run doublefree-continues '^survived$' X=1 -- "$prog" doublefree
# A rules file overrides the automatic tag.
rules=$(mktemp); printf '# test rules\npreload_pr* Mine\n' > "$rules"
run rules '^ok$' PT_TAGS="$rules" ME_TAG=Mine -- "$prog" basic
rm -f "$rules"
# Children: the preload leaves LD_PRELOAD unless PT_FOLLOW_CHILDREN=1.
out=$(LD_PRELOAD="$P:/nonexistent-other.so" "$prog" env 2>/dev/null | grep LD_PRELOAD=)
if grep -q 'libpooltag-preload' <<<"$out" || ! grep -q 'nonexistent-other.so' <<<"$out"; then
  echo "FAIL no-follow: $out"; fail=1; else echo "ok   no-follow"; fi
out=$(PT_FOLLOW_CHILDREN=1 LD_PRELOAD="$P" "$prog" env 2>/dev/null | grep LD_PRELOAD=)
if ! grep -q 'libpooltag-preload' <<<"$out"; then echo "FAIL follow: $out"; fail=1; else echo "ok   follow"; fi
# The segment of a preloaded process is readable by pooltag, with modules.
"$prog" env >/dev/null 2>&1
exit $fail
