#!/usr/bin/env bash
# pooltag address: bad input is one line "pooltag address: ..." and exit
# status 2 — no SOURCE, two, an unknown option, no such PID, a file that
# is not a core, a directory; another user's process is refused by the
# ptrace rule (as root, through setpriv).
. "$(dirname "$0")/cli_lib.sh"
expect_error address "missing SOURCE" "$POOLTAG" address
expect_error address "too many arguments" "$POOLTAG" address 1 2
expect_error address "--bogus" "$POOLTAG" address --bogus 1
expect_error address "no process with PID 2147483647" "$POOLTAG" address 2147483647
expect_error address "no process with PID" "$POOLTAG" address 99999999999
printf 'not a core\n' >"$T/text"
expect_error address "$T/text" "$POOLTAG" address "$T/text"
expect_error address "$T/nothing" "$POOLTAG" address "$T/nothing"
expect_error address "$T" "$POOLTAG" address "$T"
expect_error address "/bin/true" "$POOLTAG" address /bin/true
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    setpriv --reuid=1 --regid=1 --clear-groups test -x "$POOLTAG"; then
    setpriv --reuid=65534 --regid=65534 --clear-groups sleep 60 &
    pid=$!
    track_pid "$pid"
    sleep 0.2
    expect_error address "permission denied reading process $pid" \
        setpriv --reuid=1 --regid=1 --clear-groups "$POOLTAG" address "$pid"
fi
timeout 10 "$POOLTAG" address --help >"$T/help" || fail "address --help"
grep -q "^Usage: pooltag address" "$T/help" || fail "help: $(cat "$T/help")"
