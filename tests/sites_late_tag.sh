#!/usr/bin/env bash
# Issue 9 item 7: a tag created after the call-site table filled up keeps
# its own counts.  sites_fixture --many --late with PT_MAX_SITES=16: 43
# sites of tag Site fill the table, then 1000 blocks of a new tag Late.
# `used` must show Late with exactly 1000 blocks / 64000 bytes and no Ovfl
# row, and name PT_MAX_SITES (not PT_MAX_TAGS); `sites Late` shows them as
# the tag's other sites.  With libpooltag, and under the preload.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_fixture
PRELOAD=$PT_BUILD/src/preload/libpooltag-preload.so

check() {
    local what=$1 P=$FIX_PID
    timeout 30 "$POOLTAG" used "$P" >"$T/used.txt" || fail "$what: used exited $?"
    timeout 30 "$POOLTAG" used --json "$P" >"$T/used.json" || fail "$what: used --json"
    timeout 30 "$POOLTAG" sites --json "$P" Late >"$T/late.json" || fail "$what: sites --json"
    timeout 30 "$POOLTAG" sites "$P" Late >"$T/late.txt" || fail "$what: sites"
    python3 - "$T" <<'PY' || fail "$what: $(cat "$T/used.txt")"
import json, sys
T = sys.argv[1]
used = json.load(open(T + "/used.json"))
assert used["site_table_full"] is True, "used --json: site_table_full %r" % used["site_table_full"]
tags = {t["tag"]: t for t in used["tags"]}
late = tags.get("Late")
assert late, "no Late row: %s" % sorted(tags)
p = late["paged"]
assert (p["blocks"], p["bytes"], p["allocs"]) == (1000, 64000, 1000), "Late: %s" % p
ovfl = tags.get("Ovfl")
assert not ovfl or ovfl["paged"]["allocs"] + ovfl["nonpaged"]["allocs"] == 0, "Ovfl row: %s" % ovfl
s = json.load(open(T + "/late.json"))
rows = [(x["other_sites"], x["overflow"], x["allocs"]) for x in s["sites"]]
assert rows == [(True, False, 1000)], "sites Late: %s" % rows
PY
    totals_match "$T/late.json" "$T/used.json" Late
    grep -q 'call-site table is full (PT_MAX_SITES=16).*raise PT_MAX_SITES' "$T/used.txt" ||
        fail "$what: used does not name PT_MAX_SITES: $(cat "$T/used.txt")"
    ! grep -q 'raise PT_MAX_TAGS' "$T/used.txt" ||
        fail "$what: used names PT_MAX_TAGS: $(cat "$T/used.txt")"
    grep -qF '(other sites: site table full)' "$T/late.txt" ||
        fail "$what: sites Late: $(cat "$T/late.txt")"
    stop_fixture
    echo "$what: ok"
}

start_fixture PT_MAX_SITES=16 -- --many --late
check libpooltag

if [ ! -f "$PRELOAD" ] || ldd "$FIXTURE" | grep -q libasan; then
    echo "preload part skipped: no preload, or a sanitizer build's fixture"
else
    FIX_WRAP="env LD_PRELOAD=$PRELOAD" start_fixture PT_MAX_SITES=16 -- --many --late
    check preload
fi
echo "sites_late_tag: ok"
