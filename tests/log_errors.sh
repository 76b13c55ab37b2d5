#!/usr/bin/env bash
# Errors of pooltag log: one line on stderr, exit 2, nothing on stdout, and
# nothing created or modified: bad options, intervals, sizes; PIDs that do
# not exist, are not tagged, or are given twice; -o files that are not
# pooltag logs of this version (left byte for byte as they were); paths
# that cannot be written.  And --help: true usage, exit 0.
. "$(dirname "$0")/log_lib.sh"

"$POOLTAG" log --help >"$T/help" || fail "--help exit status"
for o in --output --interval --max-size --all --duration --quiet --help \
    250ms 64K "logger stopped" SIGKILL; do
    grep -qF -- "$o" "$T/help" || fail "--help does not mention $o"
done

start_nmf --leak paged --rate 64K --duration 50
P=$NMF_PID
NEW=$T/new.db
e() { expect_error log "$@"; [ ! -e "$NEW" ] || fail "'$*' created $NEW"; }

e "missing -o FILE.db" "$POOLTAG" log "$P"
e "missing PID" "$POOLTAG" log -o "$NEW"
e "needs a value" "$POOLTAG" log -o
e "unknown option '--bogus'" "$POOLTAG" log --bogus -o "$NEW" "$P"
e "unknown option '-z'" "$POOLTAG" log -z -o "$NEW" "$P"
for iv in abc 5x 1.5.5 -1 "" 5sec 25h; do
    e "bad interval '$iv'" "$POOLTAG" log -o "$NEW" --interval "$iv" "$P"
done
e "too short: the minimum is 10ms" "$POOLTAG" log -o "$NEW" -i 5ms "$P"
e "too short" "$POOLTAG" log -o "$NEW" -i 0 "$P"
for s in abc 5x -1 "" 25h; do
    e "bad --sub '$s'" "$POOLTAG" log -o "$NEW" --sub "$s" "$P"
done
e "--sub '0.0005' is too short: the minimum is 1ms" "$POOLTAG" log -o "$NEW" --sub 0.0005 "$P"
e "--sub '0' is too short" "$POOLTAG" log -o "$NEW" -s 0 "$P"
for sz in abc 5Q 1.5M -1 10KX ""; do
    e "bad size '$sz'" "$POOLTAG" log -o "$NEW" --max-size "$sz" "$P"
done
e "too small to hold a useful log" "$POOLTAG" log -o "$NEW" --max-size 10K "$P"
e "too small" "$POOLTAG" log -o "$NEW" -m 65535 "$P"
e "bad duration '0'" "$POOLTAG" log -o "$NEW" --duration 0 "$P"
e "bad duration 'soon'" "$POOLTAG" log -o "$NEW" --duration soon "$P"
e "'12ab' is not a PID" "$POOLTAG" log -o "$NEW" 12ab
e "PID $P is given twice" "$POOLTAG" log -o "$NEW" "$P" "$P"
e "give no PID with it" "$POOLTAG" log -o "$NEW" --all "$P"
e "no process with PID 99999999" "$POOLTAG" log -o "$NEW" 99999999
# One good PID does not excuse a bad one.
e "no process with PID 99999999" "$POOLTAG" log -o "$NEW" "$P" 99999999
sleep 50 &
S=$!
track_pid "$S"
e "process $S (sleep) is not tagged" "$POOLTAG" log -o "$NEW" "$S"

# Files that are not pooltag logs of this version: refused, untouched.
printf 'not a database\n' >"$T/text.db"
sqlite3 "$T/other.db" 'CREATE TABLE t(x); INSERT INTO t VALUES (1)'
"$POOLTAG" log -o "$T/v3.db" --duration 0.2 -q "$P" || fail "cannot make a log"
sqlite3 "$T/v3.db" 'PRAGMA user_version = 3'
# A version-1 log (before issue 15): trend reads it, log does not append
# to it (its rows would lack the interval extremes).
python3 "$PT_SRC/tests/trend_gen.py" "$T/v1.db" --span 60 --version 1 >/dev/null ||
    fail "trend_gen --version 1"
head -c 100 /dev/zero >"$T/zeros.db"
for f in text other v3 v1 zeros; do
    sum=$(md5sum <"$T/$f.db")
    case $f in
        text|zeros) want="is not a pooltag log (not an SQLite database)" ;;
        other) want="is an SQLite database but not a pooltag log" ;;
        v3) want="is a pooltag log of format version 3; this pooltag writes version 2: it was left alone (pooltag trend cannot read it)" ;;
        v1) want="is a pooltag log of format version 1; this pooltag writes version 2: it was left alone (pooltag trend still reads it); choose another file" ;;
    esac
    expect_error log "$want" "$POOLTAG" log -o "$T/$f.db" "$P"
    [ "$(md5sum <"$T/$f.db")" = "$sum" ] || fail "$f.db was modified"
    for x in wal shm journal; do
        [ ! -e "$T/$f.db-$x" ] || fail "$f.db-$x was created"
    done
done
mkdir "$T/dir.db"
expect_error log "is a directory, not a regular file" "$POOLTAG" log -o "$T/dir.db" "$P"
expect_error log "Not a directory" "$POOLTAG" log -o "$T/text.db/x.db" "$P"
expect_error log "No such file or directory" "$POOLTAG" log -o "$T/nodir/x.db" "$P"

# Other users (needs root and setpriv): a directory not writable, another
# user's process.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$POOLTAG"; then
    NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    "${NOBODY[@]}" "$NOTMYFAULT" --quiet --leak paged --duration 50 &
    NP=$!
    track_pid "$NP"
    wait_tagged "$NP"
    mkdir -m 755 "$T/ro"
    expect_error log "cannot create $T/ro/x.db: Permission denied" \
        "${NOBODY[@]}" "$POOLTAG" log -o "$T/ro/x.db" "$NP"
    expect_error log "permission denied reading process $NP" \
        setpriv --reuid=1 --regid=1 --clear-groups "$POOLTAG" log -o /tmp/pt_log_never.db "$NP"
    [ ! -e /tmp/pt_log_never.db ] || { rm -f /tmp/pt_log_never.db; fail "log created without permission"; }
    [ ! -e "$T/ro/x.db" ] || fail "log created in a read-only directory"
else
    echo "note: permission cases skipped (need root and setpriv)"
fi

# An empty file (mktemp, `sqlite3 FILE`) is made into a log.
: >"$T/empty.db"
"$POOLTAG" log -o "$T/empty.db" --duration 0.3 -q "$P" || fail "empty file refused"
[ "$(q "$T/empty.db" 'PRAGMA application_id')" = 1347701831 ] || fail "empty file not made a log"
