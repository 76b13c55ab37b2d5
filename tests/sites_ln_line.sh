#!/usr/bin/env bash
# Issue 9: sites and ln agree on a return address.  sites shows each call
# site's return address with the call's file:line (looked up at addr - 1);
# `ln` of that same address shows the line of the instruction at it
# (Source) and, when it differs, the call's line as "As a return
# address" — which must be the line sites printed.  The same in --json.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_fixture

start_fixture
P=$FIX_PID
timeout 30 "$POOLTAG" sites --json "$P" Site >"$T/sites.json" || fail "sites --json"
python3 - "$T/sites.json" >"$T/rows" <<'PY' || fail "sites --json: $(head -c 400 "$T/sites.json")"
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["sites"]:
    if s.get("file") and s.get("address"):
        print(s["address"], s["file"], s["line"])
PY
[ -s "$T/rows" ] || fail "sites shows no site with file:line"
n=0
while read -r addr file line; do
    timeout 30 "$POOLTAG" ln "$P" "$addr" >"$T/ln" || fail "ln $addr: exit $?"
    got=$(sed -n 's/^As a return address (the call before it, as sites shows it): //p' "$T/ln")
    [ -n "$got" ] || got=$(sed -n 's/^Source: //p' "$T/ln")
    [ "$got" = "$file:$line" ] ||
        fail "ln $addr gives $got for the return address, sites $file:$line: $(cat "$T/ln")"
    timeout 30 "$POOLTAG" ln --json "$P" "$addr" >"$T/ln.json" || fail "ln --json $addr"
    python3 - "$T/ln.json" "$file" "$line" <<'PY' || fail "ln --json $addr: $(cat "$T/ln.json")"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["as_return_address"]
assert r["file"] == sys.argv[2] and r["line"] == int(sys.argv[3]), r
PY
    n=$((n + 1))
done <"$T/rows"
echo "sites_ln_line: ok ($n sites)"
