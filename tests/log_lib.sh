# log_lib.sh — sourced by the log_*.sh tests (pooltag log).  Adds to
# cli_lib.sh: the sqlite3 tool, queries, and waiting on a log's contents.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault
if ! command -v sqlite3 >/dev/null; then
    echo "SKIP: the sqlite3 command-line tool is not installed" >&2
    exit 77
fi
MANYTAGS=$PT_BUILD/tests/log_manytags

# q DB SQL: one query, its rows on stdout ('|' between columns).  A busy
# database (the logger committing) is waited for, not failed.
q() {
    sqlite3 -cmd '.timeout 5000' "$1" "$2"
}

# wait_sql DB SQL WANT [SECONDS]: until the query prints WANT.
wait_sql() {
    local db=$1 sql=$2 want=$3 secs=${4:-20} got=""
    for _ in $(seq $((secs * 10))); do
        # Not before the logger made it: sqlite3 would create the file.
        [ -s "$db" ] && got=$(q "$db" "$sql" 2>/dev/null || true)
        [ "$got" = "$want" ] && return 0
        sleep 0.1
    done
    fail "waited ${secs}s for '$sql' = '$want' on $db, last '$got'"
}

# wait_exit PID SECONDS: until PID (a child of this shell) ends; sets RC.
wait_exit() {
    local pid=$1 secs=$2
    for _ in $(seq $((secs * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && fail "process $pid still running after ${secs}s"
    RC=0
    wait "$pid" || RC=$?
}

# start_manytags N: the many-tags program, sets MT_PID.
start_manytags() {
    [ -x "$MANYTAGS" ] || fail "$MANYTAGS not built"
    rm -f "$T/mt.ready"
    PT_MAX_TAGS=2048 "$MANYTAGS" "$1" "$T/mt.ready" &
    MT_PID=$!
    track_pid "$MT_PID"
    for _ in $(seq 100); do
        [ -s "$T/mt.ready" ] && return 0
        kill -0 "$MT_PID" 2>/dev/null || fail "log_manytags died while starting"
        sleep 0.1
    done
    fail "log_manytags never got ready"
}
