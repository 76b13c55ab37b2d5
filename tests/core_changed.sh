#!/usr/bin/env bash
# A core whose library changed since it was written: core_fx loads
# libchg.so built into the test's folder, gcore, then libchg.so is rebuilt
# with other code (another build-id).  Before the rebuild ln on the core
# names chg_value; after it, ln and lm warn on stderr ("pooltag ln:
# warning: PATH changed since it was loaded (build-id differs)") and do not
# use the file: the address is not named after whatever the new file has
# there.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/core_lib.sh"
command -v cc >/dev/null || { echo "SKIP: no C compiler (cc) to build the library" >&2; exit 77; }

L=$T/libchg.so
cat >"$T/chg1.c" <<'C'
int chg_value(void) { return 42; }
C
cat >"$T/chg2.c" <<'C'
static volatile int pad[64];
int chg_other(void) { return pad[3] + 7; }
int chg_value(void) { return chg_other() * 3 + pad[5]; }
C
cc -shared -fPIC -g -O1 -Wl,--build-id -o "$L" "$T/chg1.c" || fail "cc chg1"
start_fx "$L"
[ "$FX_CHG" != 0x0 ] || fail "core_fx did not load $L"
C=$T/core.chg
take_gcore "$FX_PID" "$C"

"$POOLTAG" ln "$C" "$FX_CHG" >"$T/ln.before" 2>"$T/err" || fail "ln before: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "ln warned before the rebuild: $(cat "$T/err")"
grep -q "libchg.so!chg_value" "$T/ln.before" || fail "ln before: $(cat "$T/ln.before")"

old=$(readelf -n "$L" | awk '/Build ID/{print $3}')
rm -f "$L"
cc -shared -fPIC -g -O1 -Wl,--build-id -o "$L" "$T/chg2.c" || fail "cc chg2"
new=$(readelf -n "$L" | awk '/Build ID/{print $3}')
[ -n "$old" ] && [ "$old" != "$new" ] || fail "the rebuilt library has the same build-id ($old)"

rc=0
"$POOLTAG" ln "$C" "$FX_CHG" >"$T/ln.after" 2>"$T/err" || rc=$?
[ "$rc" = 0 ] || fail "ln after: exit $rc: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "ln after: not one warning: $(cat "$T/err")"
grep -qF "pooltag ln: warning: $L changed since it was loaded (build-id differs)" "$T/err" ||
    fail "ln after: warning: $(cat "$T/err")"
grep -q "chg_value\|chg_other" "$T/ln.after" && fail "ln after used the changed file: $(cat "$T/ln.after")"
grep -q "libchg.so" "$T/ln.after" || fail "ln after: the module is not named: $(cat "$T/ln.after")"

"$POOLTAG" lm "$C" >"$T/lm" 2>"$T/err" || fail "lm after"
grep -qF "pooltag lm: warning: $L changed since it was loaded (build-id differs)" "$T/err" ||
    fail "lm after: warning: $(cat "$T/err")"
grep " libchg.so " "$T/lm" | grep -q "$old" || fail "lm after: not the core's build-id: $(cat "$T/lm")"
echo PASS
