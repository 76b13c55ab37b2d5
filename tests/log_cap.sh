#!/usr/bin/env bash
# --max-size keeps a log circular: over a fast run that writes many times
# the cap, the database and its WAL stay near the cap, the newest samples
# are there, the oldest are gone (whole samples, with their tag rows).
. "$(dirname "$0")/log_lib.sh"

start_manytags 200          # ~8 KiB of tag rows per sample
DB=$T/cap.db
CAP=$((256 * 1024))
"$POOLTAG" log -o "$DB" --interval 10ms --max-size 256K --duration 8 "$MT_PID" 2>"$T/err" &
LOG=$!
track_pid "$LOG"
# Watch the files while it runs: database + WAL, largest seen.
max=0
while kill -0 "$LOG" 2>/dev/null; do
    s=$(( $(stat -c %s "$DB" 2>/dev/null || echo 0) + $(stat -c %s "$DB-wal" 2>/dev/null || echo 0) ))
    [ "$s" -gt "$max" ] && max=$s
    sleep 0.05
done
wait_exit "$LOG" 5
[ "$RC" = 0 ] || fail "logger exited $RC: $(cat "$T/err")"
written=$(sed -n 's/^pooltag log: wrote \([0-9]*\) samples.*/\1/p' "$T/err")
deleted=$(sed -n 's/.* \([0-9]*\) oldest deleted (cap).*/\1/p' "$T/err")
[ -n "$written" ] && [ -n "$deleted" ] || fail "summary: $(cat "$T/err")"

[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
[ "$(q "$DB" "SELECT value FROM meta WHERE key = 'max_size'")" = "$CAP" ] || fail "meta max_size"
IFS='|' read -r lo hi n < <(q "$DB" 'SELECT min(id), max(id), count(*) FROM sample')
# The run wrote far more than the cap holds.
[ "$written" -ge $((5 * n)) ] || fail "only $written samples written, $n kept: the cap was never reached"
[ "$((written - deleted))" = "$n" ] || fail "written $written - deleted $deleted != kept $n"
# Oldest gone, newest kept, nothing missing in between.
[ "$lo" -gt 1 ] || fail "the first sample is still there"
[ "$hi" = "$written" ] || fail "newest sample id $hi, $written written"
[ "$n" = $((hi - lo + 1)) ] || fail "a hole in the kept samples ($lo..$hi, $n)"
[ "$(q "$DB" 'SELECT max(t_ns) = last_ns FROM sample, process')" = 1 ] || fail "the newest sample is gone"
# Tag rows went with their samples; every kept sample has all 200 tags.
[ "$(q "$DB" 'SELECT count(*) FROM tag_sample WHERE sample < (SELECT min(id) FROM sample)')" = 0 ] ||
    fail "tag rows of deleted samples remain"
[ "$(q "$DB" 'SELECT count(*) FROM tag_sample')" = $((n * 200)) ] || fail "tag rows of kept samples missing"
# Used pages under the cap; files near it.
used=$(q "$DB" 'SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size')
[ "$used" -le "$CAP" ] || fail "used $used bytes > cap $CAP"
[ "$max" -le $((CAP * 3 / 2)) ] || fail "database + WAL reached $max bytes for a cap of $CAP"
size=$(stat -c %s "$DB")
[ "$size" -le $((CAP * 5 / 4)) ] || fail "database file $size bytes for a cap of $CAP"
echo "log_cap: $written samples written, $n kept ($lo..$hi), db+wal at most $max bytes, db $size"
