#!/usr/bin/env bash
# Another user's process: pooltag special is refused (one line, status 2)
# and changes nothing; its owner and root may change it.  Needs root (to
# be three users); see hit_perm.sh for why the refusal comes from the
# reading.
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
"${NOBODY[@]}" "$HV" --live --special >"$HV_OUT" 2>&1 &
HV_PID=$!
track_pid "$HV_PID"
wait_for "$HV_OUT" '^ready$'
gen() { "$POOLTAG" special "$HV_PID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["generation"])'; }
g0=$(gen)
expect_error special "permission denied reading process $HV_PID (uid 65534)" "${UID1[@]}" "$POOLTAG" special "$HV_PID" Ovr2
expect_error special "permission denied reading process $HV_PID (uid 65534)" "${UID1[@]}" "$POOLTAG" special "$HV_PID" --off
expect_error special "permission denied reading process $HV_PID (uid 65534)" "${UID1[@]}" "$POOLTAG" special --show "$HV_PID"
[ "$(gen)" = "$g0" ] || fail "a refused change moved the generation: $g0 -> $(gen)"
! grep -q '^applied' "$HV_OUT" || fail "the process applied a refused change"
"${NOBODY[@]}" "$POOLTAG" special "$HV_PID" Ovr2 >"$T/own" || fail "uid 65534 cannot change its own process"
wait_for "$HV_OUT" '^special sp_n 3 '
"$POOLTAG" special "$HV_PID" --off >"$T/root" || fail "root cannot change uid 65534's process"
wait_for "$HV_OUT" '^special sp_n 0 '
echo "special permission tests passed"
