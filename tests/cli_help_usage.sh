#!/usr/bin/env bash
# Issue 9: every verb's --help (and `pooltag help VERB`) starts with
# "Usage: pooltag VERB", exits 0 and writes to stdout only.
. "$(dirname "$0")/cli_lib.sh"
verbs="used vm mon snap sites run log trend serve find lm ln imports"
for v in $verbs; do
    rc=0
    "$POOLTAG" "$v" --help >"$T/h" 2>"$T/e" || rc=$?
    [ "$rc" = 0 ] || fail "$v --help exited $rc"
    [ ! -s "$T/e" ] || fail "$v --help wrote to stderr: $(cat "$T/e")"
    head -1 "$T/h" | grep -q "^Usage: pooltag $v " || fail "$v --help starts with: $(head -1 "$T/h")"
    "$POOLTAG" help "$v" >"$T/h2" 2>/dev/null || fail "help $v exited $?"
    head -1 "$T/h2" | grep -q "^Usage: pooltag $v " || fail "help $v starts with: $(head -1 "$T/h2")"
done
# The verb list names every verb tested here.
"$POOLTAG" --help >"$T/all" || fail "pooltag --help"
for v in $verbs; do
    grep -qw "$v" "$T/all" || fail "pooltag --help does not list $v"
done
echo "cli_help_usage: ok"
