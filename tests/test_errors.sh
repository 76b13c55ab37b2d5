#!/usr/bin/env bash
# Caller errors are detected, reported with tag/size/address, and handled per
# PT_ON_ERROR: report (go on, block not passed to the allocator) or abort.
set -u
bin="$PT_BUILD/tests/rt_errors"
fail=0
expect() { # name env case status regex [stdout-regex]
  local name=$1 envs=$2 case=$3 want=$4 re=$5 outre=${6:-}
  local out err st
  err=$(mktemp); out=$(env $envs timeout 20 "$bin" "$case" 2>"$err"); st=$?
  if [ "$st" != "$want" ]; then echo "FAIL $name: status $st, want $want"; cat "$err"; fail=1
  elif ! grep -Eq "$re" "$err"; then echo "FAIL $name: stderr does not match /$re/:"; cat "$err"; fail=1
  elif [ "$(grep -c '^pooltag: ' "$err")" != 1 ]; then echo "FAIL $name: want exactly one report line"; cat "$err"; fail=1
  elif [ -n "$outre" ] && ! grep -Eq "$outre" <<<"$out"; then echo "FAIL $name: stdout '$out' !~ /$outre/"; fail=1
  else echo "ok   $name"; fi
  rm -f "$err"
}
expect badptr-report   PT_ON_ERROR=report badptr 0 'bad pointer: not a live pooltag block .*: address 0x[0-9a-f]+' 'survived frees\+0 allocs\+0'
expect badptr-abort    PT_ON_ERROR=abort  badptr 134 'not a live pooltag block.*PT_ON_ERROR=abort'
expect badptr-default  "PT_X=1"           badptr 134 'not a live pooltag block'   # library default: abort
expect double-mimalloc PT_ON_ERROR=report doublefree 0 "double free: address 0x[0-9a-f]+, tag 'Errs'" 'survived frees\+1 allocs\+1'
expect double-libc     "PT_ON_ERROR=report PT_BACKEND=libc" doublefree 0 'double free: address 0x[0-9a-f]+' 'survived frees\+1 allocs\+1'
expect double-abort    PT_ON_ERROR=abort  doublefree 134 'double free'
expect corrupt         PT_ON_ERROR=report corrupt 0 'not a live pooltag block' 'survived frees\+0 allocs\+1'
expect mismatch        PT_ON_ERROR=report mismatch 0 "tag mismatch in pt_free_tag: address 0x[0-9a-f]+, block tag 'Errs', caller said 'Othr', size 48" 'survived frees\+1 allocs\+1'
expect mismatch-abort  PT_ON_ERROR=abort  mismatch 134 'tag mismatch'
expect tagof           PT_ON_ERROR=report tagof 0 'not a live pooltag block'
# A bad option value warns once and keeps the default.
err=$(PT_BACKEND=bogus PT_ON_ERROR=report "$bin" badptr 2>&1 >/dev/null)
if grep -q "ignoring PT_BACKEND='bogus': expected mimalloc|libc" <<<"$err"; then echo "ok   bad-option"; else echo "FAIL bad-option: $err"; fail=1; fi
err=$(PT_VERBOSE=1 PT_ON_ERROR=report PT_PAGED_MAX=3M "$bin" badptr 2>&1 >/dev/null)
if grep -q 'PT_PAGED_MAX=3145728' <<<"$err" && grep -q 'PT_ON_ERROR=report' <<<"$err"; then echo "ok   verbose"; else echo "FAIL verbose: $err"; fail=1; fi
exit $fail
