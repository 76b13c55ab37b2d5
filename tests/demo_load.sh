#!/usr/bin/env bash
# notmyfault --load: tag Load rises (peak > 0, bounded by --requests x 16 KiB)
# and everything it held is freed; 2 threads; counters agree.
. "$(dirname "$0")/demo_lib.sh"

out=$(mktemp)
timeout 30 "$NOTMYFAULT" --load --period 1 --requests 32 --duration 2.5 \
    --threads 2 >"$out" 2>&1
st=$?
[ "$st" = 0 ] && ok "exit status 0" || { bad "exit status $st"; cat "$out"; }
peak=$(sed -n 's/^notmyfault: load peaked at \([0-9]*\) bytes.*/\1/p' "$out")
if [ -n "$peak" ] && [ "$peak" -gt 0 ] && [ "$peak" -le $((32 * 16384)) ]; then
    ok "Load peaked at $peak bytes (max $((32 * 16384)))"
else
    bad "Load peak '$peak'"; cat "$out"
fi
r=$(row "$out" Load)
read -r _ pool allocs frees _ bytes _ _ <<<"$r"
# Over 2.5 periods with requests ending and starting every tick there are
# many more allocations than the 32 x 4 buffers of one peak.
if [ "$pool" = paged ] && [ "$allocs" = "$frees" ] && [ "$bytes" = 0 ] &&
   [ "$allocs" -gt 256 ]; then
    ok "Load all freed, $allocs allocations ($r)"
else
    bad "Load row '$r'"
fi
if [ -z "$(row "$out" Leak)" ]; then ok "no Leak without --leak"; else bad "Leak row without --leak"; fi
grep -q "counters agree" "$out" && ok "counters agree" || { bad "no agreement line"; cat "$out"; }
rm -f "$out"
finish
