#!/usr/bin/env bash
# `pooltag used` against a running `notmyfault --leak nonpaged`: Leak is
# the first row under "Sorting by NonPaged Pool Consumed", it grows between
# two readings, the background tags are there with their descriptions.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault

start_nmf --leak nonpaged --rate 1M
pid=$NMF_PID
wait_tagged "$pid" Leak

timeout 20 "$POOLTAG" used -t 5 "$pid" >"$T/u1" || fail "used exit $?"
cat "$T/u1"
grep -q '^   Sorting by NonPaged Pool Consumed$' "$T/u1" || fail "no sorting header"
grep -q "^   process $pid (notmyfault), live reading at " "$T/u1" || fail "source line"
[ "$(first_row "$T/u1")" = Leak ] || fail "first row is $(first_row "$T/u1"), not Leak"
grep -q '^ Leak .*  notmyfault - memory leaked on purpose by the demo' "$T/u1" ||
    fail "Leak has no description"
for tag in Cach Conf Sess; do
    grep -q "^ $tag .*  notmyfault - " "$T/u1" || fail "$tag row missing"
done
grep -q 'UNKNOWN pooltag' "$T/u1" && fail "a demo tag is unknown to pooltag.txt"
nrows=$(awk '/^ Tag /{getline; on=1; next} on && /^$/{exit} on{n++} END{print n+0}' "$T/u1")
[ "$nrows" -le 5 ] && [ "$nrows" -ge 4 ] || fail "-t 5 printed $nrows rows"
grep -q '^ TOTAL ' "$T/u1" || fail "no TOTAL line"

# Leak's NonPaged Used grows; Cach's Paged Used stays at 256 KiB.
used_of() { awk -v t="$2" '$1 == t {print $'"$3"'; exit}' "$1"; }
l1=$(used_of "$T/u1" Leak 3)
sleep 1.2
timeout 20 "$POOLTAG" used "$pid" >"$T/u2" || fail "second used exit $?"
l2=$(used_of "$T/u2" Leak 3)
[ "$l2" -gt "$l1" ] || fail "Leak did not grow: $l1 -> $l2"
[ "$(used_of "$T/u2" Cach 5)" = 262144 ] || fail "Cach is not 256 KiB paged"
[ "$(used_of "$T/u2" Conf 3)" = 2304 ] || fail "Conf is not 2304 B nonpaged"

# Sorted by Paged: Cach (256 KiB) first; Leak (nonpaged only) has 0 paged.
timeout 20 "$POOLTAG" used --sort=paged "$pid" >"$T/p" || fail "sort paged"
grep -q '^   Sorting by Paged Pool Consumed$' "$T/p" || fail "paged header"
[ "$(first_row "$T/p")" = Cach ] || fail "paged first row: $(first_row "$T/p")"

# JSON, the same reading's figures.
timeout 20 "$POOLTAG" used --json -t 5 "$pid" >"$T/j" || fail "used --json"
json_ok "$T/j"
python3 - "$T/j" "$pid" <<'PY' || fail "JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"]["kind"] == "live" and d["source"]["pid"] == int(sys.argv[2])
assert d["tags"][0]["tag"] == "Leak", d["tags"][0]
l = d["tags"][0]
assert l["nonpaged"]["bytes"] > 0 and l["paged"]["bytes"] == 0
assert l["nonpaged"]["frees"] == 0
assert l["nonpaged"]["bytes"] == l["nonpaged"]["bytes_alloc"]
PY
echo "cli used tests passed"
