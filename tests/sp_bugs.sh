#!/bin/bash
# sp_bugs: each bug of tests/sp_fixtures.c caught by the special pool
# (PT_SPECIAL=Ovr1), under the preload and linked (libpooltag.so): death by
# the right signal, a report naming the kind, the offset, the function that
# did it, the allocating function and, after a free, the freeing one.  And
# without the special pool, the same fixture shows the bug is real.
# SP_HOW=linked (sp_bugs_linked.sh): the linked half alone, which a
# sanitizer build can run; else the preload half and the bugs without the
# special pool.
. "$(dirname "$0")/cli_lib.sh"
FX=$PT_BUILD/tests/sp_fixtures
PRE=$PT_BUILD/src/preload/libpooltag-preload.so
[ -x "$FX" ] || fail "$FX not built"
[ -f "$PRE" ] || fail "$PRE not built"

# Without the special pool (the preload: PT_ON_ERROR=report, so the
# program goes on and prints what it saw).
base() { # MODE: output in $T/base.MODE, status in RC
    LD_PRELOAD=$PRE "$FX" "$1" >"$T/base.$1" 2>&1
    RC=$?
}
HOWS=preload
[ "${SP_HOW:-}" = linked ] && HOWS=linked
for m in overrun1 overrun_page underrun1 uaf_read uaf_write slop double_free bad_free; do
    [ $HOWS = linked ] && break
    base $m
    [ "$RC" = 0 ] || fail "no special pool, $m: status $RC: $(cat "$T/base.$m")"
    grep -q '^survived$' "$T/base.$m" || fail "no special pool, $m: did not go on: $(cat "$T/base.$m")"
    grep -q 'special pool' "$T/base.$m" && fail "no special pool, $m: a special pool report: $(cat "$T/base.$m")"
    case $m in
    overrun1|underrun1|bad_free)
        # the normal header check sees damage later, at a free, and names
        # no culprit
        grep -q '^pooltag: bad pointer' "$T/base.$m" || fail "no special pool, $m: $(cat "$T/base.$m")" ;;
    double_free)
        grep -q '^pooltag: double free' "$T/base.$m" || fail "no special pool, $m: $(cat "$T/base.$m")" ;;
    *)
        # silent: nothing noticed at all
        grep -q 'pooltag' "$T/base.$m" && fail "no special pool, $m: expected silence: $(cat "$T/base.$m")" ;;
    esac
done

# The special pool must place blocks for the rest.
if [ $HOWS = linked ]; then
    probe=$(PT_SPECIAL=Ovr1 "$FX" probe 2>&1)
else
    probe=$(PT_SPECIAL=Ovr1 LD_PRELOAD=$PRE "$FX" probe 2>&1)
fi
if [ "$probe" != placed ]; then
    echo "SKIP: the special pool places no blocks yet (probe: $probe)" >&2
    exit 77
fi

# section FILE TITLE: the frame lines of the stack section TITLE
section() {
    awk -v t="$2" '
        index($0, "pooltag:   " t) == 1 { on = 1; next }
        on && /^pooltag:     / { print; next }
        { on = 0 }' "$1"
}

# check HOW MODE SIGNAL HEADLINE-REGEX CULPRIT-TITLE CULPRIT-FN [FREE-FN]
check() {
    local how=$1 m=$2 sig=$3 head=$4 title=$5 fn=$6 freefn=${7:-} out=$T/$1.$2 rc
    local env=(PT_SPECIAL=Ovr1)
    [ "$m" = underrun1 ] && env+=(PT_SPECIAL_UNDERRUN=1)
    if [ "$how" = preload ]; then
        env "${env[@]}" LD_PRELOAD=$PRE "$FX" "$m" >"$out" 2>&1
    else
        env "${env[@]}" "$FX" "$m" >"$out" 2>&1
    fi
    rc=$?
    [ "$rc" = $((128 + sig)) ] || fail "$how $m: status $rc, expected death by signal $sig: $(cat "$out")"
    grep -q '^survived$' "$out" && fail "$how $m: went on after the report"
    grep -Eq "^pooltag: special pool: $head" "$out" || fail "$how $m: no '$head' in: $(cat "$out")"
    section "$out" "$title" | grep -q " $fn+0x" || fail "$how $m: '$title' does not name $fn: $(cat "$out")"
    section "$out" "$title" | grep -q " main+0x" || fail "$how $m: '$title' does not reach main: $(cat "$out")"
    section "$out" "allocated by" | grep -q " fx_alloc+0x" || fail "$how $m: the allocation stack does not name fx_alloc: $(cat "$out")"
    if [ -n "$freefn" ]; then
        section "$out" "freed by (thread" | grep -q " $freefn+0x" || fail "$how $m: no free stack naming $freefn: $(cat "$out")"
    fi
    grep -q "^pooltag:   the process dies with" "$out" || fail "$how $m: no last line: $(cat "$out")"
}

A='address 0x[0-9a-f]+'
B='\(block 0x[0-9a-f]+, size'
for how in $HOWS; do
    check $how overrun1 11 "overrun \(write\): $A: block end \+ 0 $B 32, tag 'Ovr1', live\)$" "faulting stack" fx_write
    check $how overrun_page 11 "overrun \(write\): $A: block end \+ 4095 $B 32, tag 'Ovr1', live\)$" "faulting stack" fx_write
    check $how underrun1 11 "underrun \(write\): $A: block start - 1 $B 32, tag 'Ovr1', live\)$" "faulting stack" fx_write
    check $how uaf_read 11 "use after free \(read\): $A: block start \+ 8 $B 32, tag 'Ovr1', freed\)$" "faulting stack" fx_read fx_free
    check $how uaf_write 11 "use after free \(write\): $A: block start \+ 8 $B 32, tag 'Ovr1', freed\)$" "faulting stack" fx_write fx_free
    check $how slop 6 "slop overwritten: $A: block end \+ 0 $B 100, tag 'Ovr1'" "freed by (found at free)" fx_free
    check $how double_free 6 "double free: $A: block start \+ 0 $B 32, tag 'Ovr1', freed\)$" "called by" fx_free fx_free
    check $how bad_free 6 "free of an address that is not a block's: $A: block start \+ 16 $B 32, tag 'Ovr1', live\)$" "called by" fx_free
done
echo ok
