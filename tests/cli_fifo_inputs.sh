#!/usr/bin/env bash
# cli_fifo_inputs — no input file can make a verb hang or read as something
# it is not (issue 9, item 6 and the low items on messages and POOLTAG_DB):
#   - a FIFO given to used, vm, mon, sites, lm, ln and trend is refused at
#     once (exit 2, "is a FIFO"), under `timeout` so that a hang fails;
#   - POOLTAG_DB naming a FIFO, a directory, /dev/null, /dev/zero, random
#     bytes or a missing file: one line on stderr naming the problem and the
#     database used instead, and the report still runs;
#   - `trend DIR` says "is a directory", `used /proc/self/maps` says it is
#     not a snapshot (both said "empty file").
. "$PT_SRC/tests/cli_lib.sh"
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

start_nmf --leak paged --rate 64K --duration 60
wait_tagged "$NMF_PID" Leak
"$POOLTAG" snap -o "$T/s.ptsnap" "$NMF_PID" >/dev/null || fail "snap"
mkfifo "$T/f"

expect_error used "is a FIFO" "$POOLTAG" used "$T/f"
expect_error vm "is a FIFO" "$POOLTAG" vm "$T/f"
expect_error mon "is a FIFO" "$POOLTAG" mon -n - "$T/f"
expect_error sites "is a FIFO" "$POOLTAG" sites "$T/f" Leak
expect_error lm "is a FIFO" "$POOLTAG" lm "$T/f"
expect_error ln "is a FIFO" "$POOLTAG" ln "$T/f" 0x1000
expect_error trend "is a FIFO" "$POOLTAG" trend "$T/f"
expect_error trend "is a directory" "$POOLTAG" trend "$T"
expect_error used "not a pooltag snapshot" "$POOLTAG" used /proc/self/maps

# The tag database: refused inputs are named once, and another is used.
want_db=$POOLTAG_DB
head -c 3000 /dev/urandom >"$T/random.txt"
printf 'no tag here\njust words\n' >"$T/words.txt"
for db in "$T/f:is a FIFO" "$T:is a directory" "/dev/null:is a character device" \
        "/dev/zero:is a character device" "$T/random.txt:not a tag database" \
        "$T/words.txt:not a tag database" "$T/missing.txt:No such file"; do
    path=${db%%:*} want=${db#*:}
    rc=0
    POOLTAG_DB=$path timeout 10 "$POOLTAG" used "$T/s.ptsnap" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" = 0 ] || fail "POOLTAG_DB=$path: used exited $rc: $(cat "$T/err")"
    [ "$(wc -l <"$T/err")" = 1 ] || fail "POOLTAG_DB=$path: not one line: $(cat "$T/err")"
    grep -qF "pooltag: POOLTAG_DB=$path: " "$T/err" && grep -qF "$want" "$T/err" ||
        fail "POOLTAG_DB=$path: $(cat "$T/err")"
    grep -qF "; using " "$T/err" || fail "POOLTAG_DB=$path: what is used? $(cat "$T/err")"
    grep -q '^ Leak ' "$T/out" || fail "POOLTAG_DB=$path: no report"
done
# A good database: not a word.
POOLTAG_DB=$want_db "$POOLTAG" used "$T/s.ptsnap" >/dev/null 2>"$T/err" || fail "used"
[ ! -s "$T/err" ] || fail "a good POOLTAG_DB gave: $(cat "$T/err")"
echo "cli_fifo_inputs: ok"
