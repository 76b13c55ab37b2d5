#!/usr/bin/env bash
# pooltag special on a file: the status and --show (reports, --blocks,
# --json) of hv_segment --special, whose page, block records and reports
# are known (tests/hv_segment.c lists them), and damaged variants: a
# corrupt record is skipped and said, a corrupt layout is a one-line error.
. "$(dirname "$0")/hv_lib.sh"
"$HV" --write "$T/seg" --special || fail "hv_segment --write --special"
"$POOLTAG" special "$T/seg" >"$T/st" || fail "special FILE exit $?: $(cat "$T/st")"
grep -q "^selectors: 'Ovr1' '100-200' (underrun)$" "$T/st" || fail "status selectors: $(cat "$T/st")"
grep -q '^quarantine 64 pages, at most 512 pages (512 reserved)$' "$T/st" || fail "status quarantine: $(cat "$T/st")"
grep -q '^pages used 10 (quarantined 2); blocks live 2 (124 bytes)$' "$T/st" || fail "status pages: $(cat "$T/st")"
grep -q '^allocs 7, frees 3, full 2, ineligible 1, sampled 0$' "$T/st" || fail "status counts: $(cat "$T/st")"
grep -q '^fault handler: on$' "$T/st" || fail "status handler: $(cat "$T/st")"
grep -q '^reports: 2 ' "$T/st" || fail "status reports: $(cat "$T/st")"

"$POOLTAG" special --show "$T/seg" --blocks >"$T/show" || fail "--show exit $?: $(cat "$T/show")"
# Report 1: an overrun 1 byte past the first byte after a 24-byte block,
# by fixture_leak_step (frame 0, this file's line), allocated there too.
r1=$(sed -n '/^report 1 /,/^$/p' "$T/show")
grep -q 'overrun (write) at 0x7e0000001001, end+1 of block 0x7e0000000fe8 (24 bytes, tag Ovr1)' <<<"$r1" ||
    fail "report 1 heading: $r1"
grep -q 'thread 4242, instruction 0x[0-9a-f]*; the program went on (recover)' <<<"$r1" || fail "report 1 thread: $r1"
sed -n '/faulting stack:/{n;p}' <<<"$r1" | grep -q "fixture_leak_step+0x[0-9a-f]*  .*hv_segment.c:$LINE_LEAK\$" ||
    fail "report 1 faulting frame: $r1"
sed -n '/allocated by thread 4242:/{n;p}' <<<"$r1" | grep -q "fixture_leak_step" || fail "report 1 allocation: $r1"
! grep -q 'freed by' <<<"$r1" || fail "report 1 has a free stack: $r1"
# Report 2: a use after free at start+8, with the free stack (fixture_cache_fill).
r2=$(sed -n '/^report 2 /,/^$/p' "$T/show")
grep -q 'use after free (read) at 0x7e0000002fa4, start+8 of block 0x7e0000002f9c (100 bytes, tag Ovr1)' <<<"$r2" ||
    fail "report 2 heading: $r2"
grep -q 'the process died with SIGSEGV' <<<"$r2" || fail "report 2 signal: $r2"
sed -n '/freed by thread 4243:/{n;p}' <<<"$r2" | grep -q "fixture_cache_fill+0x[0-9a-f]*  .*hv_segment.c:$LINE_CACHE\$" ||
    fail "report 2 free frame: $r2"
# Blocks: 3 records in use (record 1 is empty), in table order.
grep -q '^blocks (3 live, quarantined or reported):$' "$T/show" || fail "block count: $(cat "$T/show")"
[ "$(grep -cE '^0x[0-9a-f]+ +[0-9]+  ' "$T/show")" = 3 ] || fail "block lines: $(cat "$T/show")"
grep -qE '^0x7e0000000fe8 +24  Ovr1  live +2 pages$' "$T/show" || fail "block 0: $(cat "$T/show")"
grep -qE '^0x7e0000002f9c +100  Ovr1  quarantined 2 pages$' "$T/show" || fail "block 2: $(cat "$T/show")"
grep -qE '^0x7e0000005000 +100  Se    live +2 pages, underrun$' "$T/show" || fail "block 3: $(cat "$T/show")"

# JSON: the same facts.
"$POOLTAG" special --show "$T/seg" --blocks --json >"$T/show.json" || fail "--show --json exit $?"
json_ok "$T/show.json"
python3 - "$T/show.json" <<'PY' || fail "--show --json: $(head -c 1500 "$T/show.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["reports_total"] == 2 and d["overwritten"] == 0 and d["torn"] == 0 and d["skipped"] == 0, d
s = d["settings"]
assert [x["selector"] for x in s["selectors"]] == ["Ovr1", "100-200"], s
assert [x["underrun"] for x in s["selectors"]] == [False, True], s
r1, r2 = d["reports"]
assert (r1["seq"], r1["kind"], r1["access"], r1["offset"], r1["size"], r1["tag"]) == (1, "overrun", "write", 1, 24, "Ovr1"), r1
assert r1["block"] == "0x7e0000000fe8" and r1["recovered"] is True and r1["signal"] is None, r1
assert r1["stack"]["frames"][0]["symbol"] == "fixture_leak_step", r1["stack"]
assert r1["alloc_stack"]["frames"][0]["symbol"] == "fixture_leak_step", r1
assert r1["free_stack"] is None and r1["free_tid"] is None, r1
assert (r2["kind"], r2["offset"], r2["signal"], r2["free_tid"]) == ("use after free", 8, "SIGSEGV", 4243), r2
assert r2["free_stack"]["frames"][0]["symbol"] == "fixture_cache_fill", r2
b = d["blocks"]
assert [(x["addr"], x["size"], x["state"], x["underrun"]) for x in b] == [
    ("0x7e0000000fe8", 24, "live", False), ("0x7e0000002f9c", 100, "quarantined", False),
    ("0x7e0000005000", 100, "live", True)], b
assert b[1]["free_stack"]["frames"][0]["symbol"] == "fixture_cache_fill", b[1]
assert b[0]["free_stack"] is None, b[0]
assert d["blocks_skipped"] == 0, d
PY
"$POOLTAG" special "$T/seg" --json >"$T/st.json" || fail "status --json exit $?"
python3 - "$T/st.json" <<'PY' || fail "status --json: $(cat "$T/st.json")"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["pool"]
assert (p["pages_used"], p["pages_quarantined"], p["blocks_live"], p["bytes_live"]) == (10, 2, 2, 124), p
assert (p["allocs"], p["frees"], p["full"], p["ineligible"], p["sampled"]) == (7, 3, 2, 1, 0), p
assert p["on"] is True and p["region_pages"] == 512 and p["tags_matched"] == 1, p
assert d["handler"] == "on" and d["reports"] == 2, d
assert d["settings"]["quarantine"] == 64 and d["settings"]["max_pages"] == 512, d
PY

# ... and both follow docs/json.md's schema blocks.
for f in "special_show $T/show.json" "special $T/st.json"; do
    set -- $f
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" "$1" "$2" ||
        fail "$1 JSON does not follow docs/json.md: $(head -c 400 "$2")"
done
"$POOLTAG" special --show "$T/seg" --json >"$T/show2.json" || fail "--show --json exit $?"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" special_show "$T/show2.json" ||
    fail "special_show without --blocks does not follow docs/json.md"

# Damage: a corrupt block record or report is skipped and counted.
"$HV" --write "$T/badblk" badblk --special
"$POOLTAG" special --show "$T/badblk" --blocks >"$T/o" || fail "badblk exit $?"
grep -q '^1 block record skipped: corrupt$' "$T/o" || fail "badblk: $(cat "$T/o")"
grep -q '^blocks (3 live' "$T/o" || fail "badblk blocks: $(cat "$T/o")"
"$HV" --write "$T/badrep" badreport --special
"$POOLTAG" special --show "$T/badrep" >"$T/o" || fail "badreport exit $?"
grep -q '^1 report skipped: corrupt$' "$T/o" || fail "badreport: $(cat "$T/o")"
[ "$(grep -c '^report ' "$T/o")" = 2 ] || fail "badreport reports: $(cat "$T/o")"
# ... a corrupt or truncated layout is a one-line error.
"$HV" --write "$T/badsp" badspecial --special
expect_error special "corrupt segment: 0 special block records" "$POOLTAG" special --show "$T/badsp"
"$HV" --write "$T/trunc" truncsp --special
expect_error special "truncated segment image: the special block records" "$POOLTAG" special "$T/trunc"
# A segment without a special pool (a runtime before issue 12).
"$HV" --write "$T/old"
expect_error special "has no special pool: its pooltag runtime predates the special pool" "$POOLTAG" special --show "$T/old"
expect_error special "has no special pool" "$POOLTAG" special "$T/old"
echo "special show tests passed"
