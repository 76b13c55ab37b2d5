#!/usr/bin/env bash
# notmyfault's command line: --help succeeds; every bad argument is one line
# on stderr, nothing on stdout, exit status 2 (and it does not start running:
# the timeout would catch that).
. "$(dirname "$0")/demo_lib.sh"

out=$(timeout 10 "$NOTMYFAULT" --help 2>/tmp/demo_cli_err.$$); st=$?
err=$(cat /tmp/demo_cli_err.$$); rm -f /tmp/demo_cli_err.$$
if [ "$st" = 0 ] && grep -q '^usage: notmyfault' <<<"$out" &&
   grep -q -- '--leak paged|nonpaged' <<<"$out" && [ -z "$err" ]; then
    ok "--help"
else
    bad "--help: status $st, stderr '$err'"
fi

badargs=(
    "--leak"                      "--leak foo"
    "--leak PAGED"                "--rate 64K"
    "--leak paged --rate 0"       "--leak paged --rate abc"
    "--leak paged --rate 1K/m"    "--leak paged --rate -5"
    "--leak paged --block 8"      "--leak paged --block 1G"
    "--leak paged --max-leak x"   "--duration 0"
    "--duration -1"               "--duration abc"
    "--duration nan"              "--threads 0"
    "--threads 65"                "--threads 2x"
    "--period 5"                  "--load --period 0"
    "--load --requests 0"         "--load --requests 1.5"
    "--bogus"                     "-x"
    "extra"                       "--load extra"
    "--load=5"                    "--quiet=1"
    "--leak=paged --rate"         "-"
)
for a in "${badargs[@]}"; do
    errf=$(mktemp)
    # shellcheck disable=SC2086
    out=$(timeout 10 "$NOTMYFAULT" $a 2>"$errf"); st=$?
    lines=$(wc -l <"$errf")
    if [ "$st" = 2 ] && [ -z "$out" ] && [ "$lines" = 1 ] &&
       grep -q '^notmyfault: ' "$errf"; then
        ok "'$a' -> $(cat "$errf")"
    else
        bad "'$a': status $st (want 2), $lines stderr lines (want 1), stdout '$out':"
        cat "$errf"
    fi
    rm -f "$errf"
done
finish
