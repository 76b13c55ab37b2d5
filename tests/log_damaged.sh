#!/usr/bin/env bash
# --all and a process whose segment gets damaged: its series ends with the
# reader's error (after three failed rounds) and, once the process has
# exited, the logger lets go of its segment (no descriptor kept for the
# rest of a run that may last days).
. "$(dirname "$0")/log_lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed" >&2; exit 77; }

start_manytags 5
DB=$T/damaged.db
"$POOLTAG" log -o "$DB" --all --interval 100ms --duration 50 2>"$T/err" &
LOG=$!
track_pid "$LOG"
wait_sql "$DB" "SELECT count(*) >= 3 FROM sample s JOIN process p ON p.id = s.process WHERE p.pid = $MT_PID" 1

# The memfd of the segment: its inode, and the logger's descriptors of it.
ino=$(awk '/\/memfd:pooltag/ { print $5; exit }' "/proc/$MT_PID/maps")
[ -n "$ino" ] || fail "no pooltag segment in /proc/$MT_PID/maps"
held() {
    local n=0 f
    for f in /proc/"$LOG"/fd/*; do
        [ "$(stat -L -c %i "$f" 2>/dev/null)" = "$ino" ] && n=$((n + 1))
    done
    echo "$n"
}
[ "$(held)" -ge 1 ] || fail "the logger holds no descriptor of the segment"

# Damage the segment's magic through /proc/PID/mem (needs ptrace rights).
python3 - "$MT_PID" <<'PY' 2>"$T/poke.err" || { echo "SKIP: cannot write /proc/$MT_PID/mem: $(cat "$T/poke.err" | tail -1)" >&2; exit 77; }
import sys
pid = sys.argv[1]
for line in open("/proc/%s/maps" % pid):
    if "/memfd:pooltag" in line:
        addr = int(line.split("-")[0], 16)
        break
with open("/proc/%s/mem" % pid, "r+b", buffering=0) as f:
    f.seek(addr)
    f.write(b"\0" * 8)
PY
wait_sql "$DB" "SELECT end_reason LIKE '%bad magic%' FROM process WHERE pid = $MT_PID" 1

kill "$MT_PID"
for _ in $(seq 100); do
    [ "$(held)" = 0 ] && break
    sleep 0.1
done
[ "$(held)" = 0 ] || fail "the logger still holds the segment of exited process $MT_PID"
kill -0 "$LOG" 2>/dev/null || fail "the logger ended: $(cat "$T/err")"
kill -TERM "$LOG"
wait_exit "$LOG" 20
[ "$RC" = 0 ] || fail "logger exited $RC: $(cat "$T/err")"
[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
echo "log_damaged: series ended with '$(q "$DB" "SELECT end_reason FROM process WHERE pid = $MT_PID")', segment released"
