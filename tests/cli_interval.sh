#!/usr/bin/env bash
# Issue 9: one syntax for every interval and duration option (util.c
# cli_parse_duration): seconds by default, decimals and exponents, units
# ms, s, m/min, h.  mon --interval, log --interval and log --duration take
# the same forms and refuse the same ones.  The verbs are given a source
# that does not exist, so an accepted value shows as the source's error and
# a refused one as the option's.
. "$(dirname "$0")/cli_lib.sh"
true &
gone=$!
wait "$gone"

# accepts VERB WANT CMD...: CMD fails on the source (WANT), not the value.
accepts() {
    local verb=$1 want=$2
    shift 2
    expect_error "$verb" "$want" "$@"
}

for v in 1 1s 0.5 1e3 2.5e-1 250ms 1m 1min 1h 0.01 24h; do
    accepts mon "no such file" "$POOLTAG" mon --interval "$v" "$T/none.ptsnap"
    accepts log "no process with PID $gone" "$POOLTAG" log -o "$T/l.db" --interval "$v" "$gone"
    accepts log "no process with PID $gone" "$POOLTAG" log -o "$T/l.db" --duration "$v" "$gone"
done
for v in abc 1x '' -1 1e .5 1. 0x10 inf nan ' 1' '1 s' 1sec 1e-; do
    expect_error mon "bad --interval '$v'" "$POOLTAG" mon --interval "$v" "$T/none.ptsnap"
    expect_error log "bad interval '$v'" "$POOLTAG" log -o "$T/l.db" --interval "$v" "$gone"
    expect_error log "bad duration '$v'" "$POOLTAG" log -o "$T/l.db" --duration "$v" "$gone"
done
# Range: 10ms to 24h for both intervals; a duration up to 366 days.
for v in 5ms 0.001 1e-3; do
    expect_error mon "bad --interval '$v'" "$POOLTAG" mon --interval "$v" "$T/none.ptsnap"
    expect_error log "too short" "$POOLTAG" log -o "$T/l.db" --interval "$v" "$gone"
done
for v in 1e5 25h 86401; do
    expect_error mon "bad --interval '$v'" "$POOLTAG" mon --interval "$v" "$T/none.ptsnap"
    expect_error log "bad interval '$v'" "$POOLTAG" log -o "$T/l.db" --interval "$v" "$gone"
done
accepts log "no process with PID $gone" "$POOLTAG" log -o "$T/l.db" --duration 1e5 "$gone"
expect_error log "bad duration '1e9'" "$POOLTAG" log -o "$T/l.db" --duration 1e9 "$gone"
expect_error log "bad duration '0'" "$POOLTAG" log -o "$T/l.db" --duration 0 "$gone"
[ ! -e "$T/l.db" ] || fail "log created its output on an error"
echo "cli_interval: ok"
