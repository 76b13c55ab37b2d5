#!/usr/bin/env bash
# cli_unpublished — a live segment that is mapped but not yet published
# (version 0: the runtime writes the version last) is read again and then
# reported as "still setting up its segment; try again" (exit 2), not as a
# segment of an unsupported version 0.
. "$PT_SRC/tests/cli_lib.sh"
PROG=$PT_BUILD/tests/cli_unpublished
[ -x "$PROG" ] || { echo "SKIP: $PROG not built" >&2; exit 77; }

coproc UNPUB { exec "$PROG"; }
pid=$UNPUB_PID
track_pid "$pid"
read -r -t 10 line <&"${UNPUB[0]}" && [ "$line" = ready ] || fail "cli_unpublished did not start"
for verb in used vm; do
    expect_error $verb "process $pid (cli_unpublished) is still setting up its segment; try again" \
        "$POOLTAG" $verb "$pid"
done
echo "cli_unpublished: ok"
