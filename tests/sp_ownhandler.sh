#!/bin/bash
# sp_ownhandler: a program with its own SIGSEGV handler for its own guard
# page (installed after the special pool is on: siglongjmp three times, a
# fix-up and return once) keeps working under the special pool, sigaction
# reports its handler, and an overrun of a special block is still caught.
. "$(dirname "$0")/cli_lib.sh"
FX=$PT_BUILD/tests/sp_fixtures
PRE=$PT_BUILD/src/preload/libpooltag-preload.so
[ -x "$FX" ] || fail "$FX not built"

# Without the special pool: the handler works, the overrun goes unseen.
LD_PRELOAD=$PRE "$FX" ownhandler >"$T/base" 2>&1 || fail "no special pool: $(cat "$T/base")"
grep -q '^own handler ok$' "$T/base" || fail "no special pool: $(cat "$T/base")"
grep -q '^survived$' "$T/base" || fail "no special pool: $(cat "$T/base")"

probe=$(PT_SPECIAL=Ovr1 LD_PRELOAD=$PRE "$FX" probe 2>&1)
if [ "$probe" != placed ]; then
    echo "SKIP: the special pool places no blocks yet (probe: $probe)" >&2
    exit 77
fi
PT_SPECIAL=Ovr1 LD_PRELOAD=$PRE "$FX" ownhandler >"$T/sp" 2>&1
rc=$?
grep -q '^own handler ok$' "$T/sp" || fail "special pool: the program's handler broke: $(cat "$T/sp")"
[ "$rc" = 139 ] || fail "special pool: status $rc, expected death by SIGSEGV: $(cat "$T/sp")"
grep -q "^pooltag: special pool: overrun (write): address 0x[0-9a-f]*: block end + 0 " "$T/sp" ||
    fail "special pool: overrun not reported: $(cat "$T/sp")"
grep -q '^survived$' "$T/sp" && fail "special pool: went on after the overrun"
echo ok
