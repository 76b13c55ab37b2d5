#!/usr/bin/env bash
# Issue 9: the permission message says what is missing.  A process that
# made itself non-dumpable (prctl(PR_SET_DUMPABLE, 0)), read by its own
# user: used (the reader), lm (procmods) and find each say "not dumpable"
# and name PR_SET_DUMPABLE and CAP_SYS_PTRACE, not "run as the same user".
# As root the process and the readers run as uid 65534 (root could read
# it), and a reader of another uid is told both uids.
. "$(dirname "$0")/cli_lib.sh"
PROG=$PT_BUILD/tests/cli_nodump
[ -x "$PROG" ] || { echo "SKIP: cli_nodump not built" >&2; exit 77; }
AS=()
UID1=()
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null || { echo "SKIP: root without setpriv" >&2; exit 77; }
    AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    UID1=(setpriv --reuid=1 --regid=1 --clear-groups)
    "${AS[@]}" test -x "$POOLTAG" && "${AS[@]}" test -x "$PROG" ||
        { echo "SKIP: the build tree is not readable by other users" >&2; exit 77; }
fi
mkdir -m 777 "$T/w"
ready=$T/w/ready
"${AS[@]}" "$POOLTAG" run -- "$PROG" "$ready" &
pid=$!
track_pid "$pid"
for _ in $(seq 300); do
    [ -s "$ready" ] && break
    kill -0 "$pid" 2>/dev/null || fail "cli_nodump died while starting"
    sleep 0.05
done
[ -s "$ready" ] || fail "cli_nodump never became ready"
pid=$(cat "$ready")
# The kernel's sign of a non-dumpable process: its /proc files are root's.
[ "$(stat -c %u "/proc/$pid/status")" = 0 ] || fail "/proc/$pid/status is not root's: the process is dumpable"

for v in used lm "find Leak"; do
    # shellcheck disable=SC2086
    expect_error "${v%% *}" "permission denied reading process $pid" "${AS[@]}" "$POOLTAG" $v "$pid"
    grep -q "the process is not dumpable (it called prctl(PR_SET_DUMPABLE, 0)" "$T/err.err" ||
        fail "$v: the message does not say the process is not dumpable: $(cat "$T/err.err")"
    grep -q "CAP_SYS_PTRACE" "$T/err.err" || fail "$v: the message does not name CAP_SYS_PTRACE"
    grep -q "same user" "$T/err.err" && fail "$v: the message still says 'same user': $(cat "$T/err.err")"
done
if [ ${#UID1[@]} -gt 0 ]; then
    expect_error used "it runs as uid 65534 and you as uid 1" "${UID1[@]}" "$POOLTAG" used "$pid"
fi
echo "cli_perm_hint: ok"
