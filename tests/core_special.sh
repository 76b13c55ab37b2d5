#!/usr/bin/env bash
# The special pool's report of a crash, read from the kernel's core of the
# process it killed: sp_fixtures overrun1 under the preload with
# PT_SPECIAL=Ovr1 dies by SIGSEGV after writing its report into the
# segment; `pooltag special --show core` prints that report (kind, the
# faulting function, the allocating one) and `used` the tag.  Skipped, with
# the reason, when core_pattern does not write a core into the folder.
. "$(dirname "$0")/cli_lib.sh"
FX=$PT_BUILD/tests/sp_fixtures
PRE=$PT_BUILD/src/preload/libpooltag-preload.so
[ -x "$FX" ] && [ -f "$PRE" ] || { echo "SKIP: sp_fixtures or the preload not built" >&2; exit 77; }
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
'|'* | /*) echo "SKIP: core_pattern '$pattern' does not write cores into the test's folder" >&2
           exit 77 ;;
esac
rc=0
(cd "$T" && ulimit -c unlimited &&
    PT_SPECIAL=Ovr1 LD_PRELOAD=$PRE exec "$FX" overrun1) >"$T/out" 2>&1 || rc=$?
[ "$rc" = 139 ] || fail "sp_fixtures overrun1: status $rc, expected 139: $(cat "$T/out")"
C=$(ls "$T"/core* 2>/dev/null | head -1)
[ -n "$C" ] || { echo "SKIP: no core file appeared (core_pattern '$pattern', ulimit -c $(ulimit -Hc) hard)" >&2; exit 77; }

"$POOLTAG" special --show "$C" >"$T/show" 2>"$T/err" || fail "special --show core: $(cat "$T/err")"
grep -q "^special pool reports of core $C of process [0-9]* (sp_fixtures)" "$T/show" ||
    fail "special --show: first line: $(head -1 "$T/show")"
grep -q "overrun (write) at 0x[0-9a-f]*, end+0 of block 0x[0-9a-f]* (32 bytes, tag Ovr1)" "$T/show" ||
    fail "special --show: no overrun report: $(cat "$T/show")"
grep -q "the process died with SIGSEGV" "$T/show" || fail "special --show: $(cat "$T/show")"
grep -q "#0 .*sp_fixtures!fx_write+" "$T/show" || fail "special --show: fx_write not named: $(cat "$T/show")"
grep -q "#0 .*sp_fixtures!fx_alloc+" "$T/show" || fail "special --show: fx_alloc not named: $(cat "$T/show")"
"$POOLTAG" used -i Ovr1 "$C" >"$T/used" || fail "used core"
grep -q "^ Ovr1 " "$T/used" || fail "used core: no Ovr1: $(cat "$T/used")"
echo PASS
