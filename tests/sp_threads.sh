#!/bin/bash
# sp_threads: two threads overrun their own special blocks at the same
# moment, twice each.  With PT_SPECIAL_RECOVER=1 both are reported, once per
# block, each report whole (not interleaved with the other), and the
# program goes on; without it the process dies by SIGSEGV after a whole
# report.
. "$(dirname "$0")/cli_lib.sh"
FX=$PT_BUILD/tests/sp_fixtures
PRE=$PT_BUILD/src/preload/libpooltag-preload.so
[ -x "$FX" ] || fail "$FX not built"
probe=$(PT_SPECIAL=Ovr1 LD_PRELOAD=$PRE "$FX" probe 2>&1)
if [ "$probe" != placed ]; then
    echo "SKIP: the special pool places no blocks yet (probe: $probe)" >&2
    exit 77
fi

# whole FILE: every report runs from its headline to its last line with
# only its own lines in between; prints the number of reports
whole() {
    awk '
        /^pooltag: special pool: / { if (open) bad = 1; open = 1; n++; next }
        /^pooltag:   (going on|the process dies)/ { if (!open) bad = 1; open = 0; next }
        /^pooltag:   / { if (!open) bad = 1; next }
        END { if (open) bad = 1; print bad ? "broken" : n }' "$1"
}

for how in preload linked; do
    pre=()
    [ $how = preload ] && pre=(LD_PRELOAD=$PRE)
    for i in 1 2 3; do
        out=$T/$how.rec.$i
        env PT_SPECIAL=Ovr1 PT_SPECIAL_RECOVER=1 "${pre[@]}" "$FX" threads >"$out" 2>&1
        rc=$?
        [ "$rc" = 0 ] || fail "$how recover: status $rc: $(cat "$out")"
        grep -q '^survived$' "$out" || fail "$how recover: did not go on: $(cat "$out")"
        n=$(whole "$out")
        [ "$n" = 2 ] || fail "$how recover: expected 2 whole reports, got $n: $(cat "$out")"
        [ "$(grep -c '^pooltag:   going on (PT_SPECIAL_RECOVER=1)$' "$out")" = 2 ] || fail "$how recover: $(cat "$out")"
        tids=$(sed -n 's/^pooltag:   pid [0-9]*, tid \([0-9]*\), pc .*/\1/p' "$out" | sort -u | wc -l)
        [ "$tids" = 2 ] || fail "$how recover: the reports are not of two threads: $(cat "$out")"
        grep -q ' overrun_thread+0x' "$out" || fail "$how recover: faulting stack: $(cat "$out")"
    done
    out=$T/$how.die
    env PT_SPECIAL=Ovr1 "${pre[@]}" "$FX" threads >"$out" 2>&1
    rc=$?
    [ "$rc" = 139 ] || fail "$how: status $rc, expected death by SIGSEGV: $(cat "$out")"
    grep -q '^survived$' "$out" && fail "$how: went on"
    # the first report is whole: its last line is there
    grep -q '^pooltag:   the process dies with SIGSEGV$' "$out" || fail "$how: no whole report: $(cat "$out")"
done
echo ok
