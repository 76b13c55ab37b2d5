#!/bin/bash
# sp_unit: spreport.c and pt_cfi_backtrace_ctx without the special pool
# (tests/sp_unit.c says what each mode does).
. "$(dirname "$0")/cli_lib.sh"
U=$PT_BUILD/tests/sp_unit
[ -x "$U" ] || fail "$U not built"
# A sanitizer build: its runtime must not take the faults the test makes.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_abort=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}handle_segv=0:handle_sigbus=0:handle_abort=0

# run MODE: its stdout+stderr in $T/MODE.out, its exit status in RC
run() {
    "$U" "$1" >"$T/$1.out" 2>&1
    RC=$?
}
has() { grep -q -- "$2" "$T/$1.out" || fail "$1: no '$2' in: $(cat "$T/$1.out")"; }

run ctx
[ "$RC" = 0 ] || fail "ctx: status $RC: $(cat "$T/ctx.out")"

# The fault report, then death by SIGSEGV (128 + 11)
run fault
[ "$RC" = 139 ] || fail "fault: status $RC (expected death by SIGSEGV): $(cat "$T/fault.out")"
has fault "^pooltag: special pool: overrun (write): address 0x[0-9a-f]*: block end + 0 (block 0x[0-9a-f]*, size 32, tag 'Ovr1', live)$"
has fault "^pooltag:   pid [0-9]*, tid [0-9]*, pc 0x"
has fault "^pooltag:   faulting stack (thread [0-9]*):$"
# frame 0 is the faulting instruction in unit_overrun, frame 1 its caller
has fault "^pooltag:     #0 0x[0-9a-f]* sp_unit+0x[0-9a-f]* unit_overrun+0x"
has fault "^pooltag:     #1 0x[0-9a-f]* sp_unit+0x[0-9a-f]* unit_outer+0x"
has fault "^pooltag:   allocated by (thread [0-9]*):$"
has fault "^pooltag:     #0 0x[0-9a-f]* sp_unit+0x[0-9a-f]* unit_alloc+0x"
has fault "^pooltag:   the process dies with SIGSEGV$"
grep -q "freed by" "$T/fault.out" && fail "fault: a live block has no free stack: $(cat "$T/fault.out")"
grep -q "^FAIL" "$T/fault.out" && fail "fault: $(cat "$T/fault.out")"

# PT_SPF_RECOVER: the segment record, the program goes on
run recover
[ "$RC" = 0 ] || fail "recover: status $RC: $(cat "$T/recover.out")"
has recover "^pooltag:   going on (PT_SPECIAL_RECOVER=1)$"
has recover "^ok recovered$"

# A failed check: the caller's stack, death by SIGABRT (128 + 6)
run check
[ "$RC" = 134 ] || fail "check: status $RC (expected death by SIGABRT): $(cat "$T/check.out")"
has check "^pooltag: special pool: double free: address 0x[0-9a-f]*: block start + 0 (block 0x[0-9a-f]*, size 32, tag 'Ovr1', live)$"
has check "^pooltag:   called by (thread [0-9]*):$"
has check "sp_unit+0x[0-9a-f]* main+0x"
has check "^pooltag:   the process dies with SIGABRT$"

# Chaining to the program's handlers
run chain
[ "$RC" = 0 ] || fail "chain: status $RC: $(cat "$T/chain.out")"
has chain "^ok chain$"
grep -q "pooltag: special" "$T/chain.out" && fail "chain: a report for a fault outside the pool"

for m in chain-dfl chain-ign; do
    run $m
    [ "$RC" = 139 ] || fail "$m: status $RC (expected death by SIGSEGV): $(cat "$T/$m.out")"
    grep -q "pooltag" "$T/$m.out" && fail "$m: pooltag spoke about a fault outside the pool: $(cat "$T/$m.out")"
done
# A fault inside the report, at a freed special block: death by that
# SIGSEGV, no second report (without the guard each fault would report
# again, inside the report, until the stack runs out)
PT_SPECIAL=Ovr1 timeout 20 "$U" reenter >"$T/reenter.out" 2>&1
RC=$?
[ "$RC" = 77 ] && fail "reenter: the special pool placed no block"
[ "$RC" = 139 ] || fail "reenter: status $RC (expected death by SIGSEGV): $(cat "$T/reenter.out")"
has reenter "^pooltag: special pool: double free: address 0x"
n=$(grep -c "^pooltag: special pool: " "$T/reenter.out")
[ "$n" = 1 ] || fail "reenter: $n reports, expected 1: $(head -20 "$T/reenter.out")"
grep -q "the process dies" "$T/reenter.out" && fail "reenter: the report went on after its own fault"
echo "ok"
