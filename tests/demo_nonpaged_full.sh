#!/usr/bin/env bash
# With a small nonpaged maximum, notmyfault --leak nonpaged fills the pool,
# then keeps running: the refused allocations are counted (by the runtime,
# per tag) and reported, once on stderr and in the summary; exit status 0.
. "$(dirname "$0")/demo_lib.sh"

out=$(mktemp); err=$(mktemp)
PT_NONPAGED_MAX=256K timeout 30 "$NOTMYFAULT" --leak nonpaged --rate 8M \
    --duration 3 >"$out" 2>"$err"
st=$?
if [ "$st" = 0 ]; then ok "exit status 0 with a full pool"; else bad "exit status $st"; fi

leaked=$(sed -n 's/^notmyfault: leaked \([0-9]*\) bytes in .*nonpaged pool).*/\1/p' "$out")
nfail=$(sed -n 's/^notmyfault: \([0-9]*\) allocations failed (Leak \([0-9]*\),.*/\2/p' "$out")
if [ -n "$leaked" ] && [ "$leaked" -le 262144 ] && [ "$leaked" -ge 131072 ]; then
    ok "leaked $leaked bytes, within the 256 KiB maximum"
else
    bad "leaked '$leaked' bytes, want <= 262144 (and the pool nearly full)"
fi
# 3 s at 8 MiB/s in 1 KiB blocks is ~24,000 attempts; the pool holds < 256.
if [ -n "$nfail" ] && [ "$nfail" -gt 10000 ]; then
    ok "$nfail allocations failed and were counted"
else
    bad "failures '$nfail', want > 10000"
fi
r=$(row "$out" Leak)
read -r _ pool allocs frees _ bytes _ failures <<<"$r"
if [ "$pool" = nonpaged ] && [ "$failures" = "$nfail" ] && [ "$bytes" = "$leaked" ] &&
   [ "$frees" = 0 ] && [ "$((allocs * 1024))" = "$bytes" ]; then
    ok "runtime counted the failures for Leak ($r)"
else
    bad "Leak row '$r' (want nonpaged, failures $nfail, bytes $leaked)"
fi
if [ "$(grep -c 'allocation of 1024 bytes in the nonpaged pool failed' "$err")" = 1 ]; then
    ok "first failure reported once on stderr"
else
    bad "stderr:"; cat "$err"
fi
grep -q "counters agree" "$out" && ok "counters agree" || { bad "no agreement line"; cat "$out"; }
check_steady "$out" Conf nonpaged
rm -f "$out" "$err"
finish
