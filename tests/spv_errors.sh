#!/usr/bin/env bash
# Bad input to pooltag special: each a one-line "pooltag special: ..."
# error, exit status 2, nothing on stdout, and nothing changed.
. "$(dirname "$0")/hv_lib.sh"
start_hv --special
gen() { "$POOLTAG" special "$HV_PID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["generation"])'; }
g0=$(gen)
# A bad selector: pt_sel_parse's reason.
expect_error special "bad selector '5-3': a size range needs MIN <= MAX" "$POOLTAG" special "$HV_PID" 5-3
expect_error special "bad selector 'a:b': a special pool selector is TAG, MIN-MAX or module:GLOB" \
    "$POOLTAG" special "$HV_PID" a:b
expect_error special "bad selector 'module:': module: needs a glob" "$POOLTAG" special "$HV_PID" module:
expect_error special "bad selector '0123456789abcdefX': a tag pattern is at most 15 characters" \
    "$POOLTAG" special "$HV_PID" 0123456789abcdefX
expect_error special "selector 'Ovr1' given twice" "$POOLTAG" special "$HV_PID" Ovr1 Ovr1
expect_error special "at most 8 selectors (9 given)" "$POOLTAG" special "$HV_PID" a b c d e f g h i
expect_error special "--sample wants a number from 0 to 1073741824, not 'x'" "$POOLTAG" special "$HV_PID" --sample x
expect_error special "--quarantine wants a number from 0 to 65536, not '70000'" \
    "$POOLTAG" special "$HV_PID" --quarantine 70000
expect_error special "--max-pages wants a number from 16 to 65536, not '15'" "$POOLTAG" special "$HV_PID" --max-pages 15
expect_error special "--off removes selectors or switches the pool off" "$POOLTAG" special "$HV_PID" Ovr1 --off --exact
expect_error special "--underrun applies to the selectors given with it" "$POOLTAG" special "$HV_PID" --underrun
expect_error special "--json goes with the status" "$POOLTAG" special "$HV_PID" Ovr1 --json
expect_error special "--blocks goes with --show SOURCE" "$POOLTAG" special "$HV_PID" --blocks
expect_error special "--show reads a process or a file" "$POOLTAG" special --show "$HV_PID" --off
expect_error special "--show takes one SOURCE ('x' is extra" "$POOLTAG" special --show "$HV_PID" x
expect_error special "missing PID" "$POOLTAG" special
expect_error special "unknown option '--nope'" "$POOLTAG" special "$HV_PID" --nope
[ "$(gen)" = "$g0" ] || fail "a refused change moved the generation: $g0 -> $(gen)"
! grep -q '^applied' "$HV_OUT" || fail "the process applied a refused change"
# Sources that are not there, not tagged, not the caller's, or a file.
expect_error special "no process with PID 999999999" "$POOLTAG" special 999999999 Ovr1
expect_error special "is not tagged" "$POOLTAG" special $$ Ovr1
expect_error special "is not tagged" "$POOLTAG" special --show $$
expect_error special "no such file" "$POOLTAG" special --show "$T/none.ptsnap"
"$HV" --write "$T/seg" --special
expect_error special "is not a PID: special changes a running process" "$POOLTAG" special "$T/seg" Ovr1
# Another user's process (PID 1 when not root): the reading is refused
# (the ptrace rule), so nothing can be written.
if [ "$(id -u)" != 0 ]; then
    expect_error special "permission denied reading process 1" "$POOLTAG" special 1 Ovr1
fi
echo "special error tests passed"
