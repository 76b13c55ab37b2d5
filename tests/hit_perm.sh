#!/usr/bin/env bash
# Another user's process: pooltag hit and pooltag verify --on are refused
# (one line, status 2) and change nothing; root may change it.  Needs root
# (to be three users).  Note: where a reader may read a process it may also
# write it (same rule, PTRACE_MODE_ATTACH for /proc/PID/mem), so the refusal
# comes from the reading; with Yama's ptrace_scope 1 a non-parent can read
# through the memfd descriptor and is refused at the write ("cannot change
# PID: not permitted (only its owner or root; ptrace_scope=1)").
. "$(dirname "$0")/hv_lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root and setpriv" >&2
    exit 77
fi
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
UID1=(setpriv --reuid=1 --regid=1 --clear-groups)
if ! "${NOBODY[@]}" test -x "$HV" || ! "${UID1[@]}" test -x "$POOLTAG"; then
    echo "SKIP: the build tree is not readable by other users" >&2
    exit 77
fi
HV_OUT=$T/hv.out
"${NOBODY[@]}" "$HV" --live >"$HV_OUT" 2>&1 &
HV_PID=$!
track_pid "$HV_PID"
wait_for "$HV_OUT" '^ready$'
gen() { "$POOLTAG" hit --show "$HV_PID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["generation"])'; }
g0=$(gen)
expect_error hit "permission denied reading process $HV_PID (uid 65534)" "${UID1[@]}" "$POOLTAG" hit "$HV_PID" Leak
expect_error hit "permission denied reading process $HV_PID (uid 65534)" "${UID1[@]}" "$POOLTAG" hit "$HV_PID" --off
expect_error verify "permission denied reading process $HV_PID (uid 65534)" "${UID1[@]}" "$POOLTAG" verify "$HV_PID" --module 'libvfix*' --off
[ "$(gen)" = "$g0" ] || fail "a refused change moved the generation: $g0 -> $(gen)"
! grep -q '^applied' "$HV_OUT" || fail "the process applied a refused change"
# Its own user may change it; so may root.
"${NOBODY[@]}" "$POOLTAG" hit "$HV_PID" Cach >"$T/own" || fail "uid 65534 cannot change its own process"
wait_for "$HV_OUT" '^applied 2 hit_n 1'
"$POOLTAG" hit "$HV_PID" Leak >"$T/root" || fail "root cannot change uid 65534's process"
wait_for "$HV_OUT" '^applied 3 hit_n 1'
echo "hit permission tests passed"
