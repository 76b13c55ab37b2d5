#!/usr/bin/env bash
# pooltag verify PID --module GLOB --on/--off on a live fixture: the globs
# and the log size arrive in the control block, --off removes the given
# globs or all, the runtime's answer is reported.
. "$(dirname "$0")/hv_lib.sh"
start_hv
mods() { "$POOLTAG" verify "$HV_PID" --json | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["settings"]["modules"]))'; }
[ "$(mods)" = 'libvfix*' ] || fail "start: $(mods)"
"$POOLTAG" verify "$HV_PID" --module 'hv_seg*' --on --log-size 32 >"$T/out" || fail "--on exit $?"
grep -q "^process $HV_PID (hv_segment): verified modules: 'libvfix\*' 'hv_seg\*'; log of 32 records (generation 2)\$" "$T/out" ||
    fail "--on said: $(cat "$T/out")"
grep -q '^applied: 2 modules verified now$' "$T/out" || fail "--on: $(cat "$T/out")"
wait_for "$HV_OUT" '^applied 2 hit_n 1 verify_n 2$'
[ "$(mods)" = 'libvfix* hv_seg*' ] || fail "after --on: $(mods)"
# The same glob again: nothing added.
"$POOLTAG" verify "$HV_PID" --module 'hv_seg*' --on >"$T/out" || fail "--on again exit $?"
[ "$(mods)" = 'libvfix* hv_seg*' ] || fail "after --on again: $(mods)"
"$POOLTAG" verify "$HV_PID" --module 'libvfix*' --off >"$T/out" || fail "--off GLOB exit $?"
[ "$(mods)" = 'hv_seg*' ] || fail "after --off GLOB: $(mods)"
"$POOLTAG" verify "$HV_PID" --off >"$T/out" || fail "--off exit $?"
grep -q "verified modules: none" "$T/out" || fail "--off said: $(cat "$T/out")"
[ -z "$(mods)" ] || fail "after --off: $(mods)"
echo "verify change tests passed"
