#!/usr/bin/env bash
# `pooltag sites PID Site` on tests/sites_fixture (linked with libpooltag,
# no preload: modules come from /proc/PID/maps): every site named by its
# function and file:line with its exact counts, alloc_big first, the TOTAL
# equal to `pooltag used`, --json, --sort, -t, a snapshot (symbolized while
# the process runs, raw addresses once it is gone), a tag with no
# allocations.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_fixture

L_SMALL=$(line_of 'pt_alloc(PT_PAGED, 100, TAG)')
L_BIG=$(line_of 'pt_alloc(PT_PAGED, 100 * 1024, TAG)')
L_NP=$(line_of 'pt_alloc(PT_NONPAGED, 64, TAG)')
[ -n "$L_SMALL" ] && [ -n "$L_BIG" ] && [ -n "$L_NP" ] || fail "lines not found in $SRC_C"

start_fixture
P=$FIX_PID

# 1. The table.
timeout 30 "$POOLTAG" sites "$P" Site >"$T/live.txt" 2>"$T/live.err" ||
    fail "sites exited $?: $(cat "$T/live.err")"
[ ! -s "$T/live.err" ] || fail "stderr: $(cat "$T/live.err")"
cat "$T/live.txt"
grep -q "^   process $P (sites_fixture), live reading" "$T/live.txt" || fail "first line"
grep -q "Call sites of tag 'Site', sorted by Bytes in use" "$T/live.txt" || fail "title"
check_row "$T/live.txt" alloc_big 10 0 10 1024000 P "$L_BIG"
check_row "$T/live.txt" alloc_small 1000 250 750 75000 P "$L_SMALL"
check_row "$T/live.txt" alloc_np 4 0 4 256 NP "$L_NP"
first_site "$T/live.txt" | grep -q '!alloc_big+' || fail "alloc_big is not first (bytes)"
[ "$(grep -c 'sites_fixture!' "$T/live.txt")" = 3 ] || fail "expected exactly 3 sites"
grep -qE '^ +1014 +250 +764 +1099256 +TOTAL$' "$T/live.txt" || fail "TOTAL line"
grep -q 'TOTAL by pool: NonPaged Diff 4 Bytes 256, Paged Diff 760 Bytes 1099000' \
    "$T/live.txt" || fail "TOTAL by pool"

# 2. The TOTAL is what `pooltag used` says for the tag.
timeout 30 "$POOLTAG" used --json "$P" >"$T/used.json" || fail "used --json"
timeout 30 "$POOLTAG" sites --json "$P" Site >"$T/sites.json" || fail "sites --json"
json_ok "$T/sites.json"
totals_match "$T/sites.json" "$T/used.json" Site
# The used table shows the same per-pool numbers as the TOTAL by pool line.
timeout 30 "$POOLTAG" used -i Site "$P" | grep -qE '^ Site +4 +256 +760 +1099000 ' ||
    fail "used table differs"

# 3. JSON fields.
python3 - "$T/sites.json" "$L_BIG" "$L_SMALL" <<'PY' || fail "JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tag"] == "Site" and d["sort"] == "bytes", d["tag"]
assert d["symbolized_with"].startswith("module table"), d["symbolized_with"]
assert d["sites_total"] == 3 == d["sites_shown"] == len(d["sites"])
big, small = d["sites"][0], d["sites"][1]
assert big["symbol"] == "alloc_big" and small["symbol"] == "alloc_small"
assert big["line"] == int(sys.argv[2]) and small["line"] == int(sys.argv[3])
assert big["file"].endswith("/sites_fixture.c")
assert big["module"] == "sites_fixture" and big["path"].endswith("/tests/sites_fixture")
assert big["address"].startswith("0x") and int(big["address"], 16) > 0
assert int(big["module_offset"], 16) < int(big["address"], 16)   # PIE: bias > 0
assert (big["allocs"], big["frees"], big["blocks"], big["bytes"]) == (10, 0, 10, 1024000)
assert big["paged"]["bytes_alloc"] == 1024000 and big["nonpaged"]["allocs"] == 0
assert (small["allocs"], small["frees"], small["bytes"]) == (1000, 250, 75000)
assert small["paged"]["bytes_freed"] == 25000
assert not big["other_sites"] and not big["overflow"]
t = d["total"]
assert (t["allocs"], t["frees"], t["blocks"], t["bytes"]) == (1014, 250, 764, 1099256), t
PY

# 4. Sort keys and -t.
timeout 30 "$POOLTAG" sites --sort=allocs "$P" Site >"$T/allocs.txt" || fail "--sort=allocs"
first_site "$T/allocs.txt" | grep -q '!alloc_small+' || fail "--sort=allocs: alloc_small first"
grep -q 'sorted by Allocations made' "$T/allocs.txt" || fail "allocs title"
timeout 30 "$POOLTAG" sites -s diff "$P" Site >"$T/diff.txt" || fail "-s diff"
first_site "$T/diff.txt" | grep -q '!alloc_small+' || fail "-s diff: alloc_small first"
timeout 30 "$POOLTAG" sites -t 1 "$P" Site >"$T/top.txt" || fail "-t 1"
[ "$(grep -c 'sites_fixture!' "$T/top.txt")" = 1 ] || fail "-t 1 shows one row"
grep -q '2 more sites not shown (-t 1)' "$T/top.txt" || fail "-t note"
grep -qE '^ +1014 +250 +764 +1099256 +TOTAL$' "$T/top.txt" || fail "-t: TOTAL counts every site"
timeout 30 "$POOLTAG" sites --json -t 2 "$P" Site >"$T/top.json" || fail "--json -t 2"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sites_shown"]==2==len(d["sites"]) and d["sites_total"]==3 and d["total"]["allocs"]==1014' \
    "$T/top.json" || fail "--json -t 2 content"

# 5. A tag with no allocations is an answer, not an error.
timeout 30 "$POOLTAG" sites "$P" Leak >"$T/none.txt" 2>"$T/none.err" || fail "Leak: exit $?"
grep -q "^no allocations with tag 'Leak' in process $P" "$T/none.txt" || fail "no-alloc message"
[ ! -s "$T/none.err" ] || fail "no-alloc stderr"
timeout 30 "$POOLTAG" sites --json "$P" Se >"$T/none.json" || fail "Se --json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["tag"]=="Se  " and d["sites"]==[] and d["total"]["allocs"]==0' \
    "$T/none.json" || fail "empty JSON"

# 6. A snapshot while the process runs: the same table, named with the
#    running process's modules.
timeout 30 "$POOLTAG" snap -o "$T/s.ptsnap" "$P" >/dev/null || fail "snap"
timeout 30 "$POOLTAG" sites "$T/s.ptsnap" Site >"$T/snap.txt" || fail "sites on snapshot"
grep -q "^   snapshot $T/s.ptsnap of process $P" "$T/snap.txt" || fail "snapshot first line"
diff <(table_part "$T/live.txt") <(table_part "$T/snap.txt") ||
    fail "snapshot table differs from the live one"
# 7. Once the process is gone, the snapshot still names its addresses with
#    the module table the runtime keeps in the segment.
stop_fixture
timeout 30 "$POOLTAG" sites "$T/s.ptsnap" Site >"$T/gone.txt" || fail "sites on snapshot (gone)"
cat "$T/gone.txt"
# The runtime records its modules in the segment, so the snapshot names the
# functions even after the process is gone.
addr_big=$(row "$T/live.txt" alloc_big | awk '{print $6}')
grep -qE "^ +10 +0 +10 +1024000 +P +$addr_big +sites_fixture!alloc_big\+0x[0-9a-f]+ +.*sites_fixture.c:$L_BIG\$" "$T/gone.txt" ||
    fail "alloc_big named from the snapshot's module table"
grep -qE '^ +1014 +250 +764 +1099256 +TOTAL$' "$T/gone.txt" || fail "TOTAL (gone)"
timeout 30 "$POOLTAG" sites --json "$T/s.ptsnap" Site >"$T/gone.json" || fail "--json (gone)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["symbolized_with"]=="module table" and "alloc_big" in d["sites"][0]["symbol"] and d["total"]["bytes"]==1099256, d' \
    "$T/gone.json" || fail "JSON (gone)"
echo "sites_fixture: ok"
