#!/usr/bin/env bash
# pooltag search: bad input is one line "pooltag search: ..." and exit
# status 2 — a bad VALUE, a VALUE wider than --width, a bad width, an
# unknown --in, VALUE with --string, no such PID, a file that is not a
# core.
. "$(dirname "$0")/cli_lib.sh"
S=("$POOLTAG" search)
expect_error search "missing SOURCE and VALUE" "${S[@]}"
expect_error search "missing VALUE" "${S[@]}" $$
expect_error search "bad VALUE 'zz'" "${S[@]}" $$ zz
expect_error search "bad VALUE '0x'" "${S[@]}" $$ 0x
expect_error search "bad VALUE '-1'" "${S[@]}" -- $$ -1
expect_error search "bad VALUE '0x10000000000000000'" "${S[@]}" $$ 0x10000000000000000
expect_error search "bad VALUE '18446744073709551616'" "${S[@]}" $$ 18446744073709551616
expect_error search "VALUE 0x12345 does not fit in 2 bytes (--width 2)" "${S[@]}" --width 2 $$ 0x12345
expect_error search "VALUE 256 does not fit in 1 byte" "${S[@]}" -w 1 $$ 256
expect_error search "bad --width '3'" "${S[@]}" --width 3 $$ 1
expect_error search "unknown usage 'bogus' in --in" "${S[@]}" --in heap,bogus $$ 1
expect_error search "empty --in" "${S[@]}" --in , $$ 1
expect_error search "bad --max 'x'" "${S[@]}" --max x $$ 1
expect_error search "not both" "${S[@]}" --string abc $$ 1
expect_error search "--width is for numbers" "${S[@]}" --string abc --width 4 $$
expect_error search "bad --string" "${S[@]}" --string "" $$
expect_error search "no process with PID 2147483647" "${S[@]}" 2147483647 1
printf 'not a core\n' >"$T/text"
expect_error search "$T/text" "${S[@]}" "$T/text" 1
expect_error search "/bin/true" "${S[@]}" /bin/true 1
# The largest values that fit are accepted.
for a in "-w 1:0xff" "-w 2:65535" "-w 4:0xffffffff" ":0xffffffffffffffff" ":18446744073709551615"; do
    # shellcheck disable=SC2086
    timeout 20 "$POOLTAG" search --in stack ${a%%:*} $$ "${a#*:}" >/dev/null 2>"$T/e"
    rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "search $a: exit $rc: $(cat "$T/e")"
done
