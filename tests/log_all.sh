#!/usr/bin/env bash
# --all follows every tagged process of the user, including one that starts
# after the logger; --all runs until stopped (here SIGTERM), and marks the
# series still open 'logger stopped'.
. "$(dirname "$0")/log_lib.sh"

start_nmf --leak paged --rate 64K --duration 50
A=$NMF_PID
DB=$T/all.db
"$POOLTAG" log -o "$DB" --all --interval 100ms --duration 50 2>"$T/err" &
LOG=$!
track_pid "$LOG"
wait_sql "$DB" "SELECT count(*) >= 3 FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $A" 1

# A process started later is picked up; one that exits ends its series.
start_nmf --load --period 4 --requests 16 --duration 3
B=$NMF_PID
wait_sql "$DB" "SELECT count(*) >= 3 FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $B" 1
wait_sql "$DB" "SELECT end_reason FROM process WHERE pid = $B" exited 30
kill -0 "$LOG" 2>/dev/null || fail "--all logger ended when its processes did: $(cat "$T/err")"

kill -TERM "$LOG"
wait_exit "$LOG" 20
[ "$RC" = 0 ] || fail "logger exited $RC: $(cat "$T/err")"
grep -q "^pooltag log: following process $B (notmyfault)" "$T/err" || fail "B not announced: $(cat "$T/err")"
grep -q "^pooltag log: wrote [0-9]* samples of [0-9]* process" "$T/err" || fail "summary: $(cat "$T/err")"
[ "$(q "$DB" "SELECT end_reason FROM process WHERE pid = $A")" = "logger stopped" ] || fail "A's end"
# B started after the logger: its series starts after the log was created.
[ "$(q "$DB" "SELECT p.first_ns > m.value + 0 FROM process p, meta m WHERE p.pid = $B AND m.key = 'created_ns'")" = 1 ] ||
    fail "B's first sample is not after the log's creation"
# One row per process: A and B each followed once.
[ "$(q "$DB" "SELECT count(*) FROM process WHERE pid IN ($A, $B)")" = 2 ] ||
    fail "process rows: $(q "$DB" "SELECT id, pid FROM process WHERE pid IN ($A, $B)")"
# The logger never follows itself.
[ "$(q "$DB" "SELECT count(*) FROM process WHERE pid = $LOG")" = 0 ] || fail "the logger logged itself"
[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
