#!/usr/bin/env bash
# pooltag special PID on hv_segment --live --special (which plays the
# runtime's side: it applies the special page, counts the tags the tag
# selectors match and prints "special sp_n N sample S max_pages M flags F"):
# selectors are added, updated (not added twice), removed one by one and
# all at once; the settings written are the ones asked for; refused changes
# write nothing.
. "$(dirname "$0")/hv_lib.sh"
start_hv --special
sel() { "$POOLTAG" special "$HV_PID" --json | python3 -c '
import json, sys
d = json.load(sys.stdin); s = d["settings"]
print(" ".join(x["selector"] + ("/u" if x["underrun"] else "") for x in s["selectors"]),
      s["sample"], s["quarantine"], s["max_pages"], int(s["exact"]), int(s["recover"]), s["generation"])'; }
[ "$(sel)" = "Ovr1 100-200/u 0 64 512 0 0 1" ] || fail "start: $(sel)"
"$POOLTAG" special "$HV_PID" 'Se*' 4K-8K 'module:libvfix*' --underrun --sample 100 --quarantine 8 \
    --max-pages 256 --exact >"$T/o" || fail "add exit $?: $(cat "$T/o")"
wait_for "$HV_OUT" '^special sp_n 5 sample 100 max_pages 256 flags 1$'
grep -q "^process $HV_PID (hv_segment): special pool (generation 2)$" "$T/o" || fail "add output: $(cat "$T/o")"
grep -q "^selectors: 'Ovr1' '100-200' (underrun) 'Se\*' (underrun) '4096-8192' (underrun) 'module:libvfix\*' (underrun)$" "$T/o" ||
    fail "add selectors: $(cat "$T/o")"
# Ovr1 and "Se  " match the tag selectors now (the fixture counts them).
grep -q '^applied: 2 tags match now$' "$T/o" || fail "add applied: $(cat "$T/o")"
[ "$(sel)" = "Ovr1 100-200/u Se*/u 4096-8192/u module:libvfix*/u 100 8 256 1 0 2" ] || fail "after add: $(sel)"
# The same selector again is updated (its underrun flag is this command's).
"$POOLTAG" special "$HV_PID" 'Se*' --recover >"$T/o" || fail "update exit $?"
[ "$(sel)" = "Ovr1 100-200/u Se* 4096-8192/u module:libvfix*/u 100 8 256 1 1 3" ] || fail "after update: $(sel)"
# Removing some, then all.
"$POOLTAG" special "$HV_PID" 4096-8192 Ovr1 --off >"$T/o" || fail "remove exit $?"
[ "$(sel)" = "100-200/u Se* module:libvfix*/u 100 8 256 1 1 4" ] || fail "after remove: $(sel)"
grep -q '^applied: 1 tag matches now$' "$T/o" || fail "remove applied: $(cat "$T/o")"
"$POOLTAG" special "$HV_PID" --off >"$T/o" || fail "off exit $?"
grep -q "special pool off (generation 5)" "$T/o" || fail "off output: $(cat "$T/o")"
grep -q '^selectors: none$' "$T/o" || fail "off selectors: $(cat "$T/o")"
[ "$(sel)" = " 0 8 256 1 1 5" ] || fail "after off: $(sel)"
wait_for "$HV_OUT" '^special sp_n 0 sample 0 max_pages 256 flags 3$'
"$POOLTAG" special "$HV_PID" >"$T/st" || fail "status exit $?"
grep -q '^selectors: none (off)$' "$T/st" || fail "status off: $(cat "$T/st")"
grep -q '^flags: exact, recover$' "$T/st" || fail "status flags: $(cat "$T/st")"
# Refused changes write nothing.
g=$(sel)
expect_error special "'Ovr1' is not a special pool selector of the process: nothing changed" \
    "$POOLTAG" special "$HV_PID" Ovr1 --off
expect_error special "--max-pages 600: the process reserved 512 pages for the pool" \
    "$POOLTAG" special "$HV_PID" --max-pages 600
"$POOLTAG" special "$HV_PID" a b c d e f g h >/dev/null || fail "8 selectors refused"
expect_error special "the process has 8 special pool selectors already (at most 8)" \
    "$POOLTAG" special "$HV_PID" Ovr1
[ "$(sel | awk '{print $NF}')" = 6 ] || fail "a refused change moved the generation: $(sel)"
echo "special change tests passed"
