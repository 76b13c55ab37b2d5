#!/bin/bash
# `pooltag leaks` on real programs at steady state reports no leaked block:
# Debian's python3 sleeping, redis-server (unix socket in the test's
# folder, after some commands), sqlite3 (a database with a table, after a
# query) — each live and from its gcore.  Debian's redis-server allocates
# with jemalloc: glibc's heap is unused, and leaks must say so (no blocks,
# a note) rather than fail or invent leaks.  Each program is skipped with a
# reason when it is not installed.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/leaks_lib.sh"

# no_leaks NAME SOURCE: leaks SOURCE finds blocks and leaks none.
no_leaks() {
    "$POOLTAG" leaks --json --max 20 "$2" >"$T/r.json" 2>"$T/r.err" || fail "$1: leaks exited $?: $(cat "$T/r.err")"
    local blocks leaked
    blocks=$(jget "$T/r.json" 'd["blocks"]')
    leaked=$(jget "$T/r.json" 'd["leaked_blocks"]')
    [ "$blocks" -gt 100 ] || fail "$1: only $blocks blocks found"
    [ "$leaked" = 0 ] || fail "$1: $leaked blocks reported leaked: $("$POOLTAG" leaks --max 20 "$2" 2>&1 | head -40)"
    echo "$1: $blocks blocks, none leaked"
}
ran=0

if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -c 'import time; print("ready", flush=True); time.sleep(120)' >"$T/py.out" &
    py=$!
    track_pid "$py"
    for _ in $(seq 100); do grep -q ready "$T/py.out" && break; sleep 0.05; done
    sleep 0.5
    no_leaks "python3 live" "$py"
    take_gcore "$py" "$T/py.core"
    no_leaks "python3 core" "$T/py.core"
    ran=1
else
    echo "note: /usr/bin/python3 not installed: skipped" >&2
fi

if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    redis-server --port 0 --unixsocket "$T/redis.sock" --save "" --appendonly no \
        --dir "$T" --daemonize no >"$T/redis.log" 2>&1 &
    rd=$!
    track_pid "$rd"
    for _ in $(seq 100); do [ -S "$T/redis.sock" ] && break; sleep 0.05; done
    [ -S "$T/redis.sock" ] || fail "redis-server did not start: $(tail -3 "$T/redis.log")"
    for i in $(seq 200); do echo "SET key$i value$i"; done | redis-cli -s "$T/redis.sock" >/dev/null
    redis-cli -s "$T/redis.sock" LPUSH list a b c d >/dev/null
    if redis-server --version | grep -q 'malloc=libc'; then
        no_leaks "redis-server live" "$rd"
        take_gcore "$rd" "$T/redis.core"
        no_leaks "redis-server core" "$T/redis.core"
    else
        # Built with jemalloc (Debian's): glibc's malloc is never used, so
        # there are no glibc blocks to check; leaks says so and leaks none.
        "$POOLTAG" leaks --json "$rd" >"$T/r.json" || fail "redis-server: leaks exited $?"
        [ "$(jget "$T/r.json" 'd["glibc"]')" = False ] || fail "redis-server: a glibc heap with jemalloc?"
        [ "$(jget "$T/r.json" 'd["leaked_blocks"]')" = 0 ] || fail "redis-server: leaks reported"
        jget "$T/r.json" 'd["note"]' | grep -q "no glibc malloc heap" ||
            fail "redis-server: no note why there are no blocks: $(cat "$T/r.json")"
        echo "redis-server ($(redis-server --version | grep -o 'malloc=[^ ]*')): no glibc heap, said so"
    fi
    redis-cli -s "$T/redis.sock" shutdown nosave >/dev/null 2>&1 || true
    ran=1
else
    echo "note: redis-server not installed: skipped" >&2
fi

if command -v sqlite3 >/dev/null; then
    mkfifo "$T/sq.in"
    sqlite3 "$T/db.sqlite" <"$T/sq.in" >"$T/sq.out" 2>&1 &
    sq=$!
    track_pid "$sq"
    exec 8>"$T/sq.in"
    {
        echo "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);"
        for i in $(seq 300); do echo "INSERT INTO t(b) VALUES('row $i');"; done
        echo "SELECT count(*) FROM t;"
    } >&8
    for _ in $(seq 100); do grep -q '^300$' "$T/sq.out" && break; sleep 0.05; done
    grep -q '^300$' "$T/sq.out" || fail "sqlite3 did not answer: $(cat "$T/sq.out")"
    no_leaks "sqlite3 live" "$sq"
    take_gcore "$sq" "$T/sq.core"
    no_leaks "sqlite3 core" "$T/sq.core"
    exec 8>&-
    ran=1
else
    echo "note: sqlite3 not installed: skipped" >&2
fi
[ "$ran" = 1 ] || { echo "SKIP: none of python3, redis-server, sqlite3 installed" >&2; exit 77; }
echo PASS
