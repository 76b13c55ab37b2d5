#!/usr/bin/env bash
# Real programs under fault injection report a clean out-of-memory error
# instead of crashing:
#   python3: its own tag (pyth) failing 1% of requests from 0.3 s on, while
#     the script appends 4 KiB bytearrays (each a malloc): MemoryError is
#     raised and caught, the script says after how many blocks, exit 0,
#     nothing on stderr; the same seed gives the same count twice.
#   python3 forking: parent and child both fail after the delay (the
#     child inherits the selectors).
#   sqlite3: libsqlite3's requests failing 0.1% (seed 5): "out of memory"
#     for the statement that met it, the shell goes on to the next ones
#     and exits 1, not by a signal.
. "$(dirname "$0")/fault_lib.sh"
need_python
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed" >&2; exit 77; }
export PYTHONHASHSEED=0
cat >"$T/mem.py" <<'PY'
import sys, time
time.sleep(0.5)
blocks = []
try:
    for i in range(100000):
        blocks.append(bytearray(4096))
    print("no error")
    sys.exit(1)
except MemoryError:
    n = len(blocks)
    blocks = None
    print("MemoryError after %d blocks" % n)
PY
fi_run 'pyth:1:after=0.3:seed=1' "$PY" "$T/mem.py"
grep -Eqx 'MemoryError after [0-9]+ blocks' "$T/fi.out" || fail "python3: $(cat "$T/fi.out" "$T/fi.err")"
[ ! -s "$T/fi.err" ] || fail "python3 stderr: $(head -c 600 "$T/fi.err")"
cp "$T/fi.out" "$T/py1"
fi_run 'pyth:1:after=0.3:seed=1' "$PY" "$T/mem.py"
cmp -s "$T/py1" "$T/fi.out" || fail "python3, same seed: $(cat "$T/py1") then $(cat "$T/fi.out")"

# A fork child keeps the parent's selectors (and its delay): both fail.
cat >"$T/fk.py" <<'PY'
import os, time
pid = os.fork()
who = "child" if pid == 0 else "parent"
# (the lines are made before the failures start, and each is one write:
# print under injected failures could itself fail or write in pieces that
# the other process's interleave)
ok = (who + " allocated\n").encode()
bad = (who + " MemoryError\n").encode()
time.sleep(0.8)
try:
    x = bytearray(100000)
    os.write(1, ok)
except MemoryError:
    os.write(1, bad)
if pid:
    os.waitpid(pid, 0)
PY
fi_run 'pyth:after=0.5' "$PY" "$T/fk.py"
[ "$(sort "$T/fi.out" | tr '\n' ' ')" = "child MemoryError parent MemoryError " ] ||
    fail "python3 fork: $(cat "$T/fi.out" "$T/fi.err")"

cat >"$T/q.sql" <<'SQL'
CREATE TABLE t(a, b);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 20000) INSERT INTO t SELECT x, randomblob(200) FROM c;
SELECT count(*) FROM t;
SELECT 'still here';
SQL
rc=0
PT_FAIL='module:libsqlite3*:0.1:seed=5' timeout 60 env LD_PRELOAD="$PRELOAD" sqlite3 :memory: \
    <"$T/q.sql" >"$T/sq.out" 2>"$T/sq.err" || rc=$?
[ "$rc" = 1 ] || fail "sqlite3: exit $rc (want 1: an error, no signal): $(cat "$T/sq.err")"
grep -q 'out of memory' "$T/sq.err" || fail "sqlite3 stderr: $(cat "$T/sq.err")"
grep -qx 'still here' "$T/sq.out" || fail "sqlite3 did not go on: $(cat "$T/sq.out")"
# without injection the same script succeeds (the failure was injected)
timeout 60 env LD_PRELOAD="$PRELOAD" sqlite3 :memory: <"$T/q.sql" >"$T/sq0.out" 2>&1 ||
    fail "sqlite3 without injection: $(cat "$T/sq0.out")"
grep -qx 20000 "$T/sq0.out" || fail "sqlite3 without injection: $(cat "$T/sq0.out")"
echo "fault real program tests passed"
