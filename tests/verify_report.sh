#!/usr/bin/env bash
# pooltag verify SOURCE on the fixture: the statistics of the verified
# module in the layout of !verifier 3, exactly its outstanding blocks
# (address, size, tag, caller) with --stacks their stacks, the leak
# reports (status 1 when there are any); --address finds the allocation
# and the free of the block containing an address, newest first, and says
# when the log does not reach back to the allocation.
. "$(dirname "$0")/hv_lib.sh"
"$HV" --write "$T/seg" || fail "cannot write the fixture"
"$POOLTAG" verify "$T/seg" >"$T/rep" || fail "verify exit $?"
for want in '^  AllocationsAttempted  *5$' '^  AllocationsSucceeded  *5$' \
    '^  AllocationsFailed  *0$' '^  AllocationsWithNoTag  *1$' \
    '^  Current paged pool allocations  *3 for  *224 bytes$' \
    '^  Peak paged pool allocations  *3 for  *480 bytes$' \
    '^2  *Loaded  *0  *224  /nonexistent/libvfix.so.1$' \
    '^  3 outstanding blocks:$'; do
    grep -q -- "$want" "$T/rep" || fail "verify lacks '$want': $(cat "$T/rep")"
done
# Exactly the three blocks, in address order, with their callers.
sed -n '/PoolAddress/,/^$/p' "$T/rep" | sed 1d | sed '/^$/d' |
    sed -E 's/\+0x[0-9a-f]+/+OFF/' >"$T/blocks"
cat >"$T/want" <<'W'
  0x0000000000020000          128  Leak  hv_segment!fixture_leak_step+OFF
  0x0000000000030000           64  Cach  hv_segment!fixture_cache_fill+OFF
  0x0000000000040000           32  Se    hv_segment!fixture_cache_fill+OFF
W
diff -u "$T/want" "$T/blocks" || fail "outstanding blocks differ"
! grep -q '^Leaks reported' "$T/rep" || fail "leaks reported without leak records"
# --stacks: every frame of each block.
"$POOLTAG" verify "$T/seg" --stacks >"$T/stk" || fail "--stacks exit $?"
[ "$(grep -c "fixture_outer+0x[0-9a-f]*  .*hv_segment.c:$LINE_OUTER\$" "$T/stk")" = 1 ] ||
    fail "--stacks: $(sed -n '/PoolAddress/,$p' "$T/stk")"
[ "$(grep -c "hv_segment.c:$LINE_CACHE\$" "$T/stk")" = 2 ] || fail "--stacks: cache_fill frames"
# JSON: the same blocks.
"$POOLTAG" verify "$T/seg" --json >"$T/j" || fail "--json exit $?"
python3 - "$T/j" <<'PY' || fail "verify --json content"
import json, sys
d = json.load(open(sys.argv[1]))
(m,) = d["modules"]
assert m["path"] == "/nonexistent/libvfix.so.1" and m["attempted"] == 5 and m["untagged"] == 1, m
assert m["pools"]["paged"] == {"current_allocations": 3, "current_bytes": 224,
                               "peak_allocations": 3, "peak_bytes": 480}, m["pools"]
got = [(b["addr"], b["size"], b["tag"], b["caller"].split("+")[0]) for b in m["outstanding"]]
assert got == [("0x20000", 128, "Leak", "hv_segment!fixture_leak_step"),
               ("0x30000", 64, "Cach", "hv_segment!fixture_cache_fill"),
               ("0x40000", 32, "Se  ", "hv_segment!fixture_cache_fill")], got
assert d["leaks"] == [], d["leaks"]
PY

# --address: block 0x20000 was allocated (256), freed, allocated again (128).
"$POOLTAG" verify "$T/seg" --address 0x20010 >"$T/a" || fail "--address exit $?"
grep -E '^[0-9]{4}-' "$T/a" | sed -E 's/^[^ ]+ [^ ]+  //' >"$T/arecs"
cat >"$T/awant" <<'W'
allocation of 0x20000 (128 bytes, tag Leak, module libvfix.so.1) by thread 4243
free of 0x20000 (256 bytes, tag Leak, module libvfix.so.1) by thread 4242
allocation of 0x20000 (256 bytes, tag Leak, module libvfix.so.1) by thread 4242
W
diff -u "$T/awant" "$T/arecs" || fail "--address records differ"
grep -q "fixture_leak_step+0x[0-9a-f]*  .*hv_segment.c:$LINE_LEAK\$" "$T/a" || fail "--address: no allocation stack"
grep -q '^0x20010 is inside outstanding block 0x20000 (128 bytes, tag Leak, module libvfix.so.1)$' "$T/a" ||
    fail "--address: outstanding block not said"
! grep -q 'no longer reaches back' "$T/a" || fail "--address: log said too short"
"$POOLTAG" verify "$T/seg" --address 0x30040 >"$T/a2" || fail "--address past exit $?"
grep -q '^no allocation or free of a block containing 0x30040 in the verify log$' "$T/a2" || fail "--address past: $(cat "$T/a2")"
"$POOLTAG" verify "$T/seg" --address 0x20010 --json >"$T/aj" || fail "--address --json exit $?"
python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert [(r["index"], r["op"]) for r in d["records"]] == [(3,"alloc"),(2,"free"),(0,"alloc")], d["records"]
assert d["log_too_short"] is False and d["outstanding"]["addr"] == "0x20000", d' "$T/aj" || fail "--address --json content"

# A log of 4 records (indices 2..5): the first allocation is gone.
"$HV" --write "$T/short" --short-log --leak || fail "cannot write the short-log fixture"
"$POOLTAG" verify "$T/short" --address 0x20010 >"$T/s" || fail "short --address exit $?"
[ "$(grep -cE '^[0-9]{4}-' "$T/s")" = 2 ] || fail "short log: $(grep -E '^[0-9]{4}-' "$T/s")"
grep -q 'the log no longer reaches back far enough: its oldest record is from .* and 2 older ones were overwritten' "$T/s" ||
    fail "short log not said: $(cat "$T/s")"
# Leak reports: status 1, the module unloaded with its blocks.
rc=0
"$POOLTAG" verify "$T/short" >"$T/l" || rc=$?
[ "$rc" = 1 ] || fail "verify with leak reports exit $rc, expected 1"
grep -q '  libvfix.so.1 at unload: 3 blocks, 224 bytes$' "$T/l" || fail "leak report: $(sed -n '/^Leaks/,$p' "$T/l")"
[ "$(grep -c '  LEAKED$' "$T/l")" = 3 ] || fail "leaked blocks not marked"
grep -q '^2  *Unloaded ' "$T/l" || fail "unloaded module state: $(grep -A3 'Verification List' "$T/l")"
echo "verify report tests passed"
