#!/usr/bin/env bash
# Several PIDs in one log: the one that exits early ends its series
# ('exited') while the other goes on; when the last one exits the logger
# ends by itself.  Each process has its own series.
. "$(dirname "$0")/log_lib.sh"

start_nmf --leak paged --rate 64K --duration 2
A=$NMF_PID
start_nmf --load --period 4 --requests 16 --duration 40
B=$NMF_PID
wait_tagged "$A" Leak
DB=$T/multi.db
"$POOLTAG" log -o "$DB" --interval 100ms "$A" "$B" 2>"$T/err" &
LOG=$!
track_pid "$LOG"

# A exits after ~2 s: its end is committed while the logger keeps going.
wait_sql "$DB" "SELECT end_reason FROM process WHERE pid = $A" exited 30
kill -0 "$LOG" 2>/dev/null || fail "logger stopped when the first target exited: $(cat "$T/err")"
nb=$(q "$DB" "SELECT count(*) FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $B")
wait_sql "$DB" "SELECT count(*) >= $nb + 3 FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $B" 1
[ -z "$(q "$DB" "SELECT end_ns FROM process WHERE pid = $B")" ] || fail "B ended early"

# B ends (SIGTERM to notmyfault): the logger has nothing left and exits 0.
kill -TERM "$B"
wait_exit "$LOG" 20
[ "$RC" = 0 ] || fail "logger exited $RC: $(cat "$T/err")"
grep -q "^pooltag log: wrote [0-9]* samples of 2 processes to $DB" "$T/err" || fail "summary: $(cat "$T/err")"
[ "$(q "$DB" "SELECT group_concat(end_reason) FROM process")" = "exited,exited" ] ||
    fail "end reasons: $(q "$DB" 'SELECT pid, end_reason FROM process')"

# Each series is its own: A has Leak and no Load, B has Load and no Leak;
# A's samples stop before its end, B's go on after it.
has() { q "$DB" "SELECT count(*) > 0 FROM tag_sample ts JOIN sample s ON s.id = ts.sample
    JOIN process p ON p.id = s.process JOIN tag t ON t.tag = ts.tag WHERE p.pid = $1 AND t.text = '$2'"; }
[ "$(has "$A" Leak)$(has "$A" Load)$(has "$B" Load)$(has "$B" Leak)" = 1010 ] ||
    fail "tags by process: A Leak $(has "$A" Leak) Load $(has "$A" Load), B Load $(has "$B" Load) Leak $(has "$B" Leak)"
[ "$(q "$DB" "SELECT max(s.t_ns) <= p.end_ns FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $A")" = 1 ] ||
    fail "A has samples after its end"
[ "$(q "$DB" "SELECT count(*) FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $B AND s.t_ns > (SELECT end_ns FROM process WHERE pid = $A)")" -ge 3 ] ||
    fail "B was not sampled after A ended"
[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
