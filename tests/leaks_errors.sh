#!/bin/bash
# `pooltag leaks` on bad input: one line "pooltag leaks: ..." and exit 2,
# never a crash — no such process, a file that is not a core, a truncated
# core, no SOURCE, a bad --max, another user's process (the ptrace rule),
# and a process killed while it is scanned.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/leaks_lib.sh"

expect_error leaks "a SOURCE is needed" "$POOLTAG" leaks
expect_error leaks "not 2 arguments" "$POOLTAG" leaks 1 2
expect_error leaks "--max wants a count" "$POOLTAG" leaks --max x 1
expect_error leaks "--bogus" "$POOLTAG" leaks --bogus 1
expect_error leaks "999999999" "$POOLTAG" leaks 999999999
expect_error leaks "not a core file" "$POOLTAG" leaks "$POOLTAG"
: >"$T/empty"
expect_error leaks "$T/empty" "$POOLTAG" leaks "$T/empty"

start_fix leakfix
take_gcore "$FIX_PID" "$T/core"
head -c 200000 "$T/core" >"$T/trunc"
expect_error leaks "$T/trunc" "$POOLTAG" leaks "$T/trunc"

# Another user's process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=1 --regid=1 --clear-groups test -x "$POOLTAG"; then
    expect_error leaks "permission denied reading process $FIX_PID" \
        setpriv --reuid=1 --regid=1 --clear-groups "$POOLTAG" leaks "$FIX_PID"
else
    echo "note: the ptrace rule not tested (needs root, setpriv and a readable build)" >&2
fi

# Killed during the scan: a process with a large heap, SIGKILLed while
# pooltag reads it.  Each run ends with a report (exit 0: the scan won the
# race) or one line naming the exit (exit 2: "exited during the scan", or
# when the kill came first "has exited" / "no memory mapped"); at least
# one of the tries must see the exit.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
saw=0
mid=0
for try in 1 2 3 4 5 6; do
    "$PY" -c 'import sys, time
x = [bytes(200) for i in range(1500000)]
print("ready", flush=True)
time.sleep(120)' >"$T/py.out" &
    pid=$!
    track_pid "$pid"
    for _ in $(seq 200); do grep -q ready "$T/py.out" && break; sleep 0.05; done
    rc=0
    "$POOLTAG" leaks "$pid" >"$T/k.out" 2>"$T/k.err" &
    lp=$!
    sleep "0.0$try"
    kill -9 "$pid"
    wait "$lp" || rc=$?
    wait "$pid" 2>/dev/null
    if [ "$rc" = 2 ]; then
        [ "$(wc -l <"$T/k.err")" = 1 ] || fail "killed mid-scan: stderr not one line: $(cat "$T/k.err")"
        grep -qE "^pooltag leaks: .*(exited during the scan|has exited|no memory mapped|no such process|no process with PID)" "$T/k.err" ||
            fail "killed mid-scan: $(cat "$T/k.err")"
        [ ! -s "$T/k.out" ] || fail "killed mid-scan: a report and an error"
        saw=1
        grep -q "exited during the scan" "$T/k.err" && mid=$((mid + 1))
    else
        [ "$rc" = 0 ] || fail "killed mid-scan: exit $rc: $(cat "$T/k.err")"
    fi
done
[ "$saw" = 1 ] || fail "no try saw the process exit"
echo "tries that saw the exit in the middle of the scan: $mid of 6"
echo PASS
