#!/usr/bin/env bash
# Bad input to `pooltag sites`: each one line on stderr ("pooltag sites:
# ..."), nothing on stdout, exit status 2.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_fixture

expect_error sites "missing SOURCE and TAG" "$POOLTAG" sites
expect_error sites "missing TAG after SOURCE" "$POOLTAG" sites 1
expect_error sites "too many arguments" "$POOLTAG" sites 1 Site extra
expect_error sites "unknown sort key 'size'" "$POOLTAG" sites --sort=size 1 Site
expect_error sites "-t wants a number of sites >= 1, not '0'" "$POOLTAG" sites -t 0 1 Site
expect_error sites "-t wants a number of sites >= 1, not 'x'" "$POOLTAG" sites -t x 1 Site
expect_error sites "unknown option '--frobnicate'" "$POOLTAG" sites --frobnicate 1 Site
expect_error sites "needs a value" "$POOLTAG" sites 1 Site --sort

# Malformed tags are refused before the source is read.
expect_error sites "bad tag 'Leakk'" "$POOLTAG" sites 1 Leakk
expect_error sites "bad tag ''" "$POOLTAG" sites 1 ""
expect_error sites "bad tag 'a\\xZZ'" "$POOLTAG" sites 1 'a\xZZ'

# Sources that do not exist or are not tagged.
true &
gone=$!
wait "$gone"
expect_error sites "no process with PID $gone" "$POOLTAG" sites "$gone" Site
expect_error sites "no process with PID 99999999999" "$POOLTAG" sites 99999999999 Site
expect_error sites "$T/none.ptsnap: no such file" "$POOLTAG" sites "$T/none.ptsnap" Site
echo "hello, world" >"$T/text"
expect_error sites "not a pooltag snapshot" "$POOLTAG" sites "$T/text" Site
sleep 30 &
sp=$!
track_pid "$sp"
expect_error sites "process $sp (sleep) is not tagged" "$POOLTAG" sites "$sp" Site

# The verb is listed where verbs are listed.
"$POOLTAG" --help | grep -qE '^  sites ' || fail "sites missing from pooltag --help"
"$POOLTAG" 2>"$T/noverb.err" && fail "no verb: exit 0"
grep -q '^pooltag: missing VERB: one of run, mon, used, vm, snap, log, trend, serve, find, lm, ln, imports, sites, .*help ' "$T/noverb.err" ||
    fail "missing-verb message: $(cat "$T/noverb.err")"
"$POOLTAG" help sites | grep -q '^Usage: pooltag sites ' || fail "help sites"
"$POOLTAG" sites --help | grep -q -- '--sort KEY' || fail "sites --help"
echo "sites_errors: ok"
