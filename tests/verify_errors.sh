#!/usr/bin/env bash
# Bad input to pooltag verify: one line, status 2, nothing changed.
. "$(dirname "$0")/hv_lib.sh"
start_hv
gen() { "$POOLTAG" verify "$HV_PID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["generation"])'; }
g0=$(gen)
expect_error verify "'nomatch*' matches no module loaded in process $HV_PID (hv_segment): nothing changed" \
    "$POOLTAG" verify "$HV_PID" --module 'libvfix*,nomatch*' --on
# The command matches as the process does (src/common/ptglob.h): '*' and
# '?' only, so a [class] is literal and matches no module here.
expect_error verify "'[l]ibvfix*' matches no module loaded in process $HV_PID (hv_segment): nothing changed" \
    "$POOLTAG" verify "$HV_PID" --module '[l]ibvfix*' --on
expect_error verify "'libother*' is not verified in this process: nothing changed" \
    "$POOLTAG" verify "$HV_PID" --module 'libother*' --off
expect_error verify "--log-size 65: the verify log has 64 records (reserved at start: raise PT_VERIFY_LOG)" \
    "$POOLTAG" verify "$HV_PID" --module 'libvfix*' --on --log-size 65
expect_error verify "--on wants --module GLOB" "$POOLTAG" verify "$HV_PID" --on
expect_error verify "--on or --off, not both" "$POOLTAG" verify "$HV_PID" --module x --on --off
expect_error verify "--module: at most 8 globs" "$POOLTAG" verify "$HV_PID" --module a,b,c,d,e,f,g,h,i --on
expect_error verify "--module wants module globs" "$POOLTAG" verify "$HV_PID" --module 'a,,b' --on
expect_error verify "--module and --log-size go with --on or --off" "$POOLTAG" verify "$HV_PID" --module x
expect_error verify "--stacks, --address and --json read a report" "$POOLTAG" verify "$HV_PID" --module x --on --json
expect_error verify "--address wants an address" "$POOLTAG" verify "$HV_PID" --address 12q
expect_error verify "missing SOURCE" "$POOLTAG" verify
[ "$(gen)" = "$g0" ] || fail "a refused change moved the generation: $g0 -> $(gen)"
expect_error verify "no process with PID 999999999" "$POOLTAG" verify 999999999
expect_error verify "is not tagged" "$POOLTAG" verify $$
expect_error verify "is not a PID" "$POOLTAG" verify ./file --module x --on
"$HV" --write "$T/badtracked" badtracked
expect_error verify "corrupt tracked block 5: module 99" "$POOLTAG" verify "$T/badtracked"
"$HV" --write "$T/badleak" badleak
expect_error verify "corrupt leak report 0" "$POOLTAG" verify "$T/badleak"
"$HV" --write "$T/trunc" trunc
expect_error verify "truncated segment image" "$POOLTAG" verify "$T/trunc" --address 0x20000
"$PT_BUILD/tests/test_reader_parse" --write-snapshot "$T/old.ptsnap" || fail "no old snapshot"
expect_error verify "has no pool tracking: its pooltag runtime predates it" "$POOLTAG" verify "$T/old.ptsnap"
# A snapshot of the live fixture, cut short: the snapshot's own check.
"$POOLTAG" snap -o "$T/s.ptsnap" "$HV_PID" >/dev/null || fail "snap exit $?"
head -c 20000 "$T/s.ptsnap" >"$T/cut.ptsnap"
expect_error verify "truncated snapshot" "$POOLTAG" verify "$T/cut.ptsnap"
echo "verify error tests passed"
