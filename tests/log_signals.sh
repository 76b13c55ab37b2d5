#!/usr/bin/env bash
# How a logger ends when its target does not: SIGTERM and SIGINT finish the
# round, mark the series 'logger stopped' and exit 0; SIGKILL leaves a
# database that passes integrity_check and holds every sample that was
# committed; a later run appends to it; --duration stops by itself.
. "$(dirname "$0")/log_lib.sh"

start_nmf --leak paged --rate 64K --duration 50
wait_tagged "$NMF_PID" Leak
DB=$T/sig.db

for sig in TERM INT; do
    # A background job of a script ignores SIGINT, and the logger keeps an
    # ignored signal ignored (nohup): give it the default disposition.
    env --default-signal=INT "$POOLTAG" log -o "$DB" --interval 100ms "$NMF_PID" 2>"$T/err.$sig" &
    LOG=$!
    track_pid "$LOG"
    id=0
    [ -s "$DB" ] && id=$(q "$DB" 'SELECT max(id) FROM process')
    wait_sql "$DB" "SELECT count(*) >= 5 FROM sample s JOIN process p ON p.id = s.process WHERE p.id = (SELECT max(id) FROM process) AND p.id > ${id:-0}" 1
    kill -"$sig" "$LOG"
    wait_exit "$LOG" 20
    [ "$RC" = 0 ] || fail "SIG$sig: logger exited $RC: $(cat "$T/err.$sig")"
    grep -q "^pooltag log: wrote [0-9]* samples of 1 process to $DB" "$T/err.$sig" ||
        fail "SIG$sig: no summary: $(cat "$T/err.$sig")"
    [ "$(q "$DB" 'SELECT end_reason FROM process ORDER BY id DESC LIMIT 1')" = "logger stopped" ] ||
        fail "SIG$sig: end_reason $(q "$DB" 'SELECT end_reason FROM process ORDER BY id DESC LIMIT 1')"
done
[ "$(q "$DB" 'SELECT count(*) FROM process WHERE pid = '"$NMF_PID")" = 2 ] ||
    fail "the second run did not append a process row"

# SIGKILL in the middle of a fast run.
"$POOLTAG" log -o "$DB" --interval 10ms "$NMF_PID" 2>"$T/err.kill" &
LOG=$!
track_pid "$LOG"
wait_sql "$DB" "SELECT count(*) >= 30 FROM sample WHERE process = 3" 1
seen=$(q "$DB" "SELECT count(*) FROM sample WHERE process = 3")
kill -KILL "$LOG"
wait "$LOG" 2>/dev/null
[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check after SIGKILL"
have=$(q "$DB" "SELECT count(*) FROM sample WHERE process = 3")
[ "$have" -ge "$seen" ] || fail "SIGKILL lost samples: $have < $seen committed"
# Every sample has its tag rows (no half-written round).
[ "$(q "$DB" 'SELECT count(*) FROM sample s WHERE NOT EXISTS (SELECT 1 FROM tag_sample ts WHERE ts.sample = s.id)')" = 0 ] ||
    fail "a sample without tag rows"
[ -z "$(q "$DB" 'SELECT end_ns FROM process WHERE id = 3')" ] || fail "killed series has an end"

# The killed log is still ours: --duration appends and stops by itself.
"$POOLTAG" log -o "$DB" --interval 100ms --duration 1 "$NMF_PID" 2>"$T/err.dur" &
LOG=$!
track_pid "$LOG"
wait_exit "$LOG" 20
[ "$RC" = 0 ] || fail "--duration run exited $RC: $(cat "$T/err.dur")"
n=$(q "$DB" 'SELECT count(*) FROM sample WHERE process = 4')
[ "$n" -ge 5 ] && [ "$n" -le 12 ] || fail "--duration 1 at 100ms wrote $n samples"
[ "$(q "$DB" 'SELECT end_reason FROM process WHERE id = 4')" = "logger stopped" ] ||
    fail "--duration end_reason"
[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check at the end"
kill -0 "$NMF_PID" || fail "notmyfault died"

# An ignored SIGHUP (nohup) stays ignored; SIGTERM still stops the logger.
nohup "$POOLTAG" log -o "$DB" --interval 100ms "$NMF_PID" 2>"$T/err.hup" >/dev/null &
LOG=$!
track_pid "$LOG"
wait_sql "$DB" "SELECT count(*) >= 3 FROM sample WHERE process = 5" 1
kill -HUP "$LOG"
sleep 0.5
kill -0 "$LOG" 2>/dev/null || fail "SIGHUP stopped a logger under nohup"
kill -TERM "$LOG"
wait_exit "$LOG" 20
[ "$RC" = 0 ] || fail "SIGTERM after SIGHUP: exit $RC"
echo "log_signals: $seen samples seen before SIGKILL, $have after"
