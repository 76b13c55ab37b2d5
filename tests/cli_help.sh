#!/usr/bin/env bash
# The dispatcher and every verb's --help: true, on stdout, exit 0; unknown
# verbs and options: one line on stderr, exit 2.
. "$(dirname "$0")/cli_lib.sh"

"$POOLTAG" --help >"$T/h" || fail "--help exit $?"
for v in mon used vm snap; do
    grep -q "^  $v " "$T/h" || fail "--help does not list $v"
done
"$POOLTAG" help >"$T/h2" || fail "help exit $?"
cmp -s "$T/h" "$T/h2" || fail "help differs from --help"
"$POOLTAG" --version | grep -Eq '^pooltag [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"

for v in used vm snap mon; do
    "$POOLTAG" "$v" --help >"$T/v" 2>"$T/e" || fail "$v --help exit $?"
    grep -qi "^usage: pooltag $v" "$T/v" || fail "$v --help has no usage line"
    [ ! -s "$T/e" ] || fail "$v --help wrote to stderr"
    "$POOLTAG" help "$v" >"$T/v2" || fail "help $v exit $?"
    cmp -s "$T/v" "$T/v2" || fail "help $v differs from $v --help"
done
# What --help promises exists.
grep -q -- '--sort' <("$POOLTAG" used --help) || fail "used --help lacks --sort"
for k in nonpaged paged allocs diff tag; do
    grep -q "$k" <("$POOLTAG" used --help) || fail "used --help lacks sort key $k"
done
grep -q -- '--json' <("$POOLTAG" vm --help) || fail "vm --help lacks --json"
grep -q -- '-o, --output FILE' <("$POOLTAG" snap --help) || fail "snap --help lacks -o"

rc=0; "$POOLTAG" >"$T/o" 2>"$T/e" || rc=$?
[ "$rc" = 2 ] || fail "no verb: exit $rc"
[ ! -s "$T/o" ] && [ "$(wc -l <"$T/e")" = 1 ] && grep -q '^pooltag: missing VERB' "$T/e" ||
    fail "no verb: $(cat "$T/e")"
rc=0; "$POOLTAG" frobnicate 2>"$T/e" || rc=$?
[ "$rc" = 2 ] || fail "unknown verb: exit $rc"
grep -q "^pooltag: unknown verb 'frobnicate'" "$T/e" || fail "unknown verb message: $(cat "$T/e")"
rc=0; "$POOLTAG" help frobnicate 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "help of an unknown verb: exit $rc"

expect_error used "unknown option '--bogus'" "$POOLTAG" used --bogus 1
expect_error used "unknown option '-q'" "$POOLTAG" used -q 1
expect_error used "needs a value" "$POOLTAG" used -t
expect_error used "missing SOURCE" "$POOLTAG" used
expect_error used "too many arguments" "$POOLTAG" used 1 2
expect_error used "-t wants a number" "$POOLTAG" used -t x 1
expect_error used "-t wants a number" "$POOLTAG" used -t 0 1
expect_error used "unknown sort key 'bytes'" "$POOLTAG" used --sort=bytes 1
expect_error vm "missing SOURCE" "$POOLTAG" vm
expect_error vm "unknown option '--top'" "$POOLTAG" vm --top 3 1
expect_error snap "missing PID" "$POOLTAG" snap -o "$T/x"
expect_error snap "is not a PID" "$POOLTAG" snap -o "$T/x" some.file
expect_error snap "needs a value" "$POOLTAG" snap 1 -o
echo "cli help tests passed"
