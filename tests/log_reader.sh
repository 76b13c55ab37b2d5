#!/usr/bin/env bash
# A reader that stays inside one read transaction (a long `pooltag trend`,
# an sqlite3 session) must not stall a capped logger: the checkpoint after
# each trim cannot finish while the reader holds its snapshot, and it must
# give up at once rather than wait the busy timeout (5 s) every round.
. "$(dirname "$0")/log_lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed" >&2; exit 77; }

start_manytags 200          # ~8 KiB of tag rows per sample
DB=$T/reader.db
# A log bigger than the cap below, so the capped run trims at once.
"$POOLTAG" log -o "$DB" --interval 50ms --duration 1 "$MT_PID" 2>"$T/err0" ||
    fail "first run: $(cat "$T/err0")"

cat >"$T/hold.py" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM sample").fetchone()
open(sys.argv[2], "w").write("in\n")
time.sleep(60)
PY
python3 "$T/hold.py" "$DB" "$T/held" &
HOLD=$!
track_pid "$HOLD"
for _ in $(seq 100); do [ -s "$T/held" ] && break; sleep 0.1; done
[ -s "$T/held" ] || fail "the reader never opened its transaction"

"$POOLTAG" log -o "$DB" --interval 50ms --max-size 64K --duration 6 "$MT_PID" 2>"$T/err" &
LOG=$!
track_pid "$LOG"
wait_exit "$LOG" 40
[ "$RC" = 0 ] || fail "logger exited $RC: $(cat "$T/err")"
grep -q "oldest deleted (cap)" "$T/err" || fail "the cap never trimmed: $(cat "$T/err")"
worst=$(sed -n 's/.*, \([0-9]*\)\.[0-9]* ms at most;.*$/\1/p' "$T/err")
[ -n "$worst" ] || fail "summary: $(cat "$T/err")"
[ "$worst" -lt 2500 ] || fail "a round took $worst ms while a reader held a snapshot: $(cat "$T/err")"
kill "$HOLD" 2>/dev/null
echo "log_reader: the slowest round took $worst ms with a reader holding a snapshot"
