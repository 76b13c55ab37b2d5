#!/usr/bin/env bash
# Bad input for pooltag heap, each one line "pooltag heap: ..." and exit 2:
# no SOURCE, a bad number, options that do not go together, no such PID,
# a file that is not a core (an executable, a text file), another user's
# process (as nobody, through setpriv; skipped where that cannot be done),
# a process with no glibc heap (a static program: skipped when none).
. "$(dirname "$0")/cli_lib.sh"

expect_error heap "missing SOURCE" "$POOLTAG" heap
expect_error heap "bad number 'x' for --size" "$POOLTAG" heap --size x 1
expect_error heap "--stat and --size" "$POOLTAG" heap --stat --size 8 1
expect_error heap "--top goes with --stat" "$POOLTAG" heap --top 3 1
expect_error heap "--max goes with --size" "$POOLTAG" heap --max 3 1
# a PID that is not running: one that just exited
true &
dead=$!
wait "$dead"
expect_error heap "no process with PID $dead" "$POOLTAG" heap "$dead"
expect_error heap "not a core file" "$POOLTAG" heap "$POOLTAG"
echo "hello" >"$T/text"
expect_error heap "$T/text" "$POOLTAG" heap "$T/text"
expect_error heap "$T/none" "$POOLTAG" heap "$T/none"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # root may read anyone's: run pooltag itself as nobody against root's sleep
    sleep 600 &
    S=$!
    track_pid "$S"
    expect_error heap "$S" setpriv --reuid=nobody --regid=nogroup --clear-groups "$POOLTAG" heap "$S"
else
    echo "note: another user's process not tried (needs root and setpriv)" >&2
fi
echo PASS
