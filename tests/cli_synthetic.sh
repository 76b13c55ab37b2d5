#!/usr/bin/env bash
# `used` and `vm` on a snapshot built byte by byte by test_reader_parse
# (known counters, an unknown tag, a padded tag "Se  ", a tag with a
# non-printable byte, the overflow entry, a pool over 80 % of its maximum
# with failures, three caller errors): exact figures, every sort order,
# -t, -i/-x, the tag database, JSON.
. "$(dirname "$0")/cli_lib.sh"

gen=$PT_BUILD/tests/test_reader_parse
[ -x "$gen" ] || fail "$gen not built"
snap=$T/sample.ptsnap
"$gen" --write-snapshot "$snap" || fail "cannot write the sample snapshot"

rows() {   # tag column of the table rows, in order
    awk '/^ Tag /{on=1; getline; next} on && /^$/{exit} on && !/^ \(/{print $1}' "$1" | tr '\n' ' '
}

"$POOLTAG" used "$snap" >"$T/np" || fail "used exit $?"
grep -q '^   Sorting by NonPaged Pool Consumed$' "$T/np" || fail "nonpaged header"
grep -q "^   snapshot $snap of process 4242 (sixteen-chars-xx), taken " "$T/np" ||
    fail "source line: $(head -1 "$T/np")"
[ "$(rows "$T/np")" = 'Leak Se Cach Ovfl Zq\x01! ' ] || fail "nonpaged order: $(rows "$T/np")"
grep -q '^             NonPaged                  Paged$' "$T/np" || fail "column group line"
grep -q '^ Tag      Allocs         Used     Allocs         Used$' "$T/np" || fail "column line"
grep -qx ' Leak        114       116736          0            0  notmyfault - memory leaked on purpose by the demo (--leak paged|nonpaged)' "$T/np" ||
    fail "Leak row: $(grep '^ Leak' "$T/np")"
grep -qx " Se            3           48          2          200  UNKNOWN pooltag 'Se  ', please update pooltag.txt" "$T/np" ||
    fail "Se row: $(grep '^ Se' "$T/np")"
grep -qF " Zq\\x01!          0            0          2           20  UNKNOWN pooltag 'Zq\\x01!', please update pooltag.txt" "$T/np" ||
    fail "escaped tag row: $(grep '^ Zq' "$T/np")"
grep -q '^ Ovfl .*pooltag - overflow entry' "$T/np" || fail "overflow row"
grep -qx ' TOTAL       117       116784         23       262664' "$T/np" || fail "TOTAL: $(grep TOTAL "$T/np")"

"$POOLTAG" used --sort=paged "$snap" >"$T/p" || fail "sort paged"
grep -q '^   Sorting by Paged Pool Consumed$' "$T/p" || fail "paged header"
[ "$(rows "$T/p")" = 'Cach Ovfl Se Zq\x01! Leak ' ] || fail "paged order: $(rows "$T/p")"
"$POOLTAG" used -s allocs "$snap" >"$T/a" || fail "sort allocs"
# allocs sorts by what the Allocs columns show (outstanding blocks), not by
# allocations ever made (which would put Se before Cach).
grep -q '^   Sorting by Allocs (outstanding blocks, NonPaged + Paged)$' "$T/a" || fail "allocs header"
[ "$(rows "$T/a")" = 'Leak Cach Se Ovfl Zq\x01! ' ] || fail "allocs order: $(rows "$T/a")"
"$POOLTAG" used --sort diff "$snap" >"$T/d" || fail "sort diff"
[ "$(rows "$T/d")" = 'Leak Cach Se Ovfl Zq\x01! ' ] || fail "diff order: $(rows "$T/d")"
"$POOLTAG" used --sort=tag "$snap" >"$T/t" || fail "sort tag"
[ "$(rows "$T/t")" = 'Cach Leak Ovfl Se Zq\x01! ' ] || fail "tag order: $(rows "$T/t")"

# -t limits the rows, not the TOTAL.
"$POOLTAG" used -t 2 "$snap" >"$T/t2" || fail "-t 2"
[ "$(rows "$T/t2")" = 'Leak Se ' ] || fail "-t 2 rows: $(rows "$T/t2")"
grep -qx ' TOTAL       117       116784         23       262664' "$T/t2" || fail "-t 2 TOTAL"
grep -q '3 more tags not shown' "$T/t2" || fail "-t 2 note"

# Patterns: text, padded, * and ?, case-sensitive, exclusion.
"$POOLTAG" used -i Se "$snap" >"$T/i" && [ "$(rows "$T/i")" = 'Se ' ] || fail "-i Se: $(rows "$T/i")"
"$POOLTAG" used -i 'S?' "$snap" >"$T/i" && [ "$(rows "$T/i")" = 'Se ' ] || fail "-i S?"
"$POOLTAG" used -i '*a*' "$snap" >"$T/i" && [ "$(rows "$T/i")" = 'Leak Cach ' ] || fail "-i *a*: $(rows "$T/i")"
"$POOLTAG" used -i leak "$snap" >"$T/i" && [ "$(rows "$T/i")" = '' ] || fail "-i leak is case-sensitive"
"$POOLTAG" used -x 'L*' -x Ovfl "$snap" >"$T/i" && [ "$(rows "$T/i")" = 'Se Cach Zq\x01! ' ] || fail "-x: $(rows "$T/i")"
grep -qx ' TOTAL         3           48         20       262364' "$T/i" || fail "TOTAL of a filtered table: $(grep TOTAL "$T/i")"

# A database of our own: short tags, escapes, comments, duplicates.
cat >"$T/db.txt" <<'DB'
// test database
Se - nt - General security allocations
Zq\x01! - weird.so - a tag with a control byte
Leak - first - wins
Leak - second - loses
this line has no separator
DB
POOLTAG_DB=$T/db.txt "$POOLTAG" used "$snap" >"$T/db" || fail "custom db"
grep -q '^ Se .*  nt - General security allocations$' "$T/db" || fail "db: Se"
grep -q '^ Zq\\x01! .*  weird.so - a tag with a control byte$' "$T/db" || fail "db: escaped"
grep -q '^ Leak .*  first - wins$' "$T/db" || fail "db: first entry wins"
grep -q "^ Cach .*UNKNOWN pooltag 'Cach', please update pooltag.txt$" "$T/db" || fail "db: unknown"

# JSON: the same rows and every counter.
"$POOLTAG" used --json -t 3 "$snap" >"$T/j" || fail "used --json"
json_ok "$T/j"
python3 - "$T/j" <<'PY' || fail "used JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["sort"] == "nonpaged" and d["tags_total"] == 5 and d["tags_shown"] == 3
assert [t["tag"] for t in d["tags"]] == ["Leak", "Se  ", "Cach"], d["tags"]
l = d["tags"][0]
assert l["known"] and l["binary"] == "notmyfault"
assert l["nonpaged"] == {"allocs": 115, "frees": 1, "blocks": 114,
    "bytes_alloc": 117760, "bytes_freed": 1024, "bytes": 116736,
    "peak": 116736, "failures": 3}, l["nonpaged"]
s = d["tags"][1]
assert not s["known"] and s["description"].startswith("UNKNOWN pooltag 'Se  '")
assert d["total"]["paged"]["bytes"] == 262664
assert d["source"]["kind"] == "snapshot" and d["source"]["pid"] == 4242
PY

# vm: figures in pages and KiB, the flag, the errors.
"$POOLTAG" vm "$snap" >"$T/vm" || fail "vm exit $?"
line() { grep -q -- "$1" "$T/vm" || fail "vm lacks '$1': $(cat "$T/vm")"; }
line '^\*\*\* Virtual Memory Usage \*\*\*  snapshot '
line '^    Resident (VmRSS): *2000 ( *8000 Kb)$'
line '^    Commit (VmData+VmStk): *12533 ( *50132 Kb)$'
line '^    Locked (VmLck): *1088 ( *4352 Kb)$'
line '^    NonPagedPool Usage: *29 ( *115 Kb)$'
line '^    NonPagedPool Max: *32 ( *128 Kb)$'
line '^    NonPagedPool Failures: *3$'
line '^    PagedPool Usage: *65 ( *257 Kb)$'
line '^    PagedPool Peak: *2442 ( *9766 Kb)$'
line '^    PagedPool Max: *unlimited$'
line '^    Caller Errors Detected: *3$'
line '^    \*\*\*\*\*\*\*\*\*\* Excessive NonPaged Pool Usage \*\*\*\*\*$'
line '^    \*\*\*\*\*\*\*\*\*\* 3 NonPaged pool allocations have failed \*\*\*\*\*$'
line "#3 *tag mismatch *tag 'Leak' size 1024 addr 0x1000 tid 7 (freed as 'Lea2')"
grep -q 'Excessive Paged' "$T/vm" && fail "Paged pool flagged without a maximum"
"$POOLTAG" vm --json "$snap" >"$T/vmj" || fail "vm --json"
json_ok "$T/vmj"
python3 - "$T/vmj" <<'PY' || fail "vm JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
np, p = d["pools"]["nonpaged"], d["pools"]["paged"]
assert np["usage_bytes"] == 116784 and np["limit_bytes"] == 131072
assert np["excessive"] and np["failures"] == 3 and not np["unlimited"]
assert p["unlimited"] and not p["excessive"] and p["peak_bytes"] == 10000000
assert d["process"]["rss_kb"] == 8000 and d["process"]["locked_kb"] == 4352
assert [e["seq"] for e in d["errors"]] == [1, 2, 3]
assert d["errors"][2]["kind"] == "tag mismatch" and d["errors"][2]["tag2"] == "Lea2"
assert d["flags"] == ["Excessive NonPaged Pool Usage"]
PY
echo "cli synthetic tests passed"
