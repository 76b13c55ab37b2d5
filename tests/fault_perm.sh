#!/usr/bin/env bash
# Another user's process: pooltag fault is refused (one line, status 2,
# nothing changed: its requests still succeed, its settings generation
# stays); its own user and root may change it.  Needs root and setpriv.
. "$(dirname "$0")/fault_lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root and setpriv" >&2
    exit 77
fi
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
UID1=(setpriv --reuid=1 --regid=1 --clear-groups)
if ! "${NOBODY[@]}" test -x "$FP" || ! "${NOBODY[@]}" test -r "$PRELOAD" ||
    ! "${UID1[@]}" test -x "$POOLTAG"; then
    echo "SKIP: the build tree is not readable by other users" >&2
    exit 77
fi
mkfifo "$T/in"
chmod 666 "$T/in"
"${NOBODY[@]}" env LD_PRELOAD="$PRELOAD" "$FP" live <"$T/in" >"$T/out" 2>"$T/err" &
pid=$!
track_pid "$pid"
exec 7>"$T/in"
for _ in $(seq 200); do
    grep -q '^ready' "$T/out" 2>/dev/null && break
    sleep 0.05
done
grep -q '^ready' "$T/out" || fail "the program did not start: $(cat "$T/err")"
gen() { "$POOLTAG" fault "$pid" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
g0=$(gen)
rc=0
"${UID1[@]}" "$POOLTAG" fault "$pid" FiA >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 2 ] && [ ! -s "$T/o" ] && [ "$(wc -l <"$T/e")" = 1 ] &&
    grep -q "^pooltag fault: permission denied reading process $pid" "$T/e" ||
    fail "another user's change: rc $rc: $(cat "$T/o" "$T/e")"
[ "$(gen)" = "$g0" ] || fail "a refused change moved the generation"
echo 100 >&7
for _ in $(seq 200); do grep -q '^fails' "$T/out" && break; sleep 0.05; done
grep -qx 'fails 0' "$T/out" || fail "after a refused change: $(cat "$T/out")"
"${NOBODY[@]}" "$POOLTAG" fault "$pid" FiA >/dev/null 2>"$T/e2" ||
    fail "uid 65534 cannot change its own process: $(cat "$T/e2")"
"$POOLTAG" fault "$pid" FiB:50 >/dev/null || fail "root cannot change uid 65534's process"
"$POOLTAG" fault "$pid" >"$T/s"
grep -qx 'selectors: FiA FiB:50%' "$T/s" || fail "settings: $(cat "$T/s")"
exec 7>&-
echo "fault permission tests passed"
