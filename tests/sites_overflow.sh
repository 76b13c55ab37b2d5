#!/usr/bin/env bash
# A full site table: sites_fixture --many with PT_MAX_SITES=16 has 43 sites
# of tag Site for 16 slots (one of them the tag's "other sites" entry).
# The sites that found the table full are counted in the "(other sites:
# site table full)" row, and the TOTAL still equals `pooltag used`.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_fixture

start_fixture PT_MAX_SITES=16 -- --many
P=$FIX_PID
timeout 30 "$POOLTAG" sites "$P" Site >"$T/t.txt" || fail "sites exited $?"
cat "$T/t.txt"
other=$(grep -F '(other sites: site table full)' "$T/t.txt") || fail "no other-sites row"
read -r oa of od ob op oaddr _ <<<"$other"
[ "$oaddr" = "-" ] && [ "$op" = P ] || fail "other-sites row: $other"
named=$(grep -c 'sites_fixture!' "$T/t.txt")
[ "$named" -le 15 ] || fail "$named named sites in a table of 16 with an other-sites entry"
# Every one of the 1054 allocations is in some row: named + other = total.
[ $((named + 0)) -ge 3 ] || fail "too few named sites"
grep -qE '^ +1054 +250 +804 +1100756 +TOTAL$' "$T/t.txt" || fail "TOTAL"

timeout 30 "$POOLTAG" used --json "$P" >"$T/used.json" || fail "used --json"
timeout 30 "$POOLTAG" sites --json "$P" Site >"$T/s.json" || fail "sites --json"
totals_match "$T/s.json" "$T/used.json" Site
python3 - "$T/s.json" <<'PY' || fail "JSON other-sites row"
import json, sys
d = json.load(open(sys.argv[1]))
o = [s for s in d["sites"] if s["other_sites"]]
assert len(o) == 1, o
o = o[0]
assert o["address"] is None and o["symbol"] is None and o["allocs"] > 0 and not o["overflow"]
named = [s for s in d["sites"] if not s["other_sites"]]
# the other-sites row holds exactly the allocations the named rows miss
assert o["allocs"] + sum(s["allocs"] for s in named) == 1054
assert all(s["symbol"] for s in named), [s["address"] for s in named if not s["symbol"]]
PY
echo "sites_overflow: ok"
