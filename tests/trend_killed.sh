#!/usr/bin/env bash
# trend_killed — a logger killed with SIGKILL records no end: trend must say
# so instead of "still logged" (issue 9, low item).  The log names its
# logger (meta 'logger': boot id, PID, start time); trend says "still
# logged" only while that process runs.  A later logger appending to the
# log closes the orphaned series with end_reason "log ended without a clean
# stop".
. "$PT_SRC/tests/cli_lib.sh"
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

start_nmf --leak paged --rate 64K --duration 60
"$POOLTAG" log -q -o "$T/k.db" --interval 100ms "$NMF_PID" &
LOGGER=$!
track_pid "$LOGGER"
# Until the log holds a sample (trend refuses a log without one).
for _ in $(seq 100); do
    "$POOLTAG" trend "$T/k.db" >"$T/run.txt" 2>/dev/null && break
    sleep 0.1
done
grep -q "still logged" "$T/run.txt" || fail "running logger: $(head -5 "$T/run.txt")"
"$POOLTAG" trend --json "$T/k.db" | grep -q '"logging": true' || fail "json: logging true"

kill -KILL "$LOGGER"
wait "$LOGGER" 2>/dev/null
"$POOLTAG" trend "$T/k.db" >"$T/dead.txt" || fail "trend after SIGKILL exited $?"
grep -q "log ended without a clean stop" "$T/dead.txt" ||
    fail "killed logger: $(grep -i "process\|logged" "$T/dead.txt" | head -3)"
grep -q "still logged" "$T/dead.txt" && fail "still logged after SIGKILL"
"$POOLTAG" trend --json "$T/k.db" >"$T/dead.json" || fail "trend --json"
json_ok "$T/dead.json"
grep -q '"logging": false' "$T/dead.json" || fail "json: logging false"

# The next logger appends and closes the orphan; its own series ends cleanly.
"$POOLTAG" log -q -o "$T/k.db" --interval 100ms --duration 300ms "$NMF_PID" ||
    fail "appending logger exited $?"
python3 -c '
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "select end_reason from process order by id").fetchall()
assert rows == [("log ended without a clean stop",), ("logger stopped",)], rows
' "$T/k.db" || fail "end reasons after appending"
echo "trend_killed: ok"
