#!/usr/bin/env bash
# mon_file — `pooltag mon` without a terminal, against a running notmyfault:
#   -n FILE twice, 2 s apart: the Leak row's Diff and Bytes grow at the
#   leak rate; totals add up; -i/-x/-p filter; --sort; -g; --json parses;
#   plain output prints --count tables with changes and stops by itself when
#   the process exits; bad input gives one "pooltag mon:" line and status 2.
set -u
: "${POOLTAG:?}" "${NOTMYFAULT:?}"
if [ ! -x "$NOTMYFAULT" ]; then echo "SKIP: $NOTMYFAULT not built"; exit 77; fi
if [ ! -x "$POOLTAG" ]; then echo "FAIL: $POOLTAG not built"; exit 1; fi

T=$(mktemp -d /tmp/pt_mon_file.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
mon() { timeout 20 "$POOLTAG" mon "$@"; }

# Rows of a table file: lines between the column header and the blank line.
rows() { awk 'NR > 2 && !NF { exit } NR > 2 { print }' "$1"; }
# Field of the row with tag $2 and type $3 (fields: Tag Type Allocs (chg)
# Frees (chg) Diff (chg) Bytes (chg) PerAlloc [Mapped]).
field() { rows "$1" | awk -v t="$2" -v p="$3" -v f="$4" '$1 == t && $2 == p { print $f }'; }
total() { awk -v p="$2" -v f="$3" '$1 == "Total" && $2 == p { print $f }' "$1"; }

# Wait until a process's segment is readable and its Leak tag has a row
# (the runtime maps the segment at start; the first leak follows shortly).
wait_tagged() {
  for _ in $(seq 100); do
    if "$POOLTAG" mon -n - -i Leak "$1" 2>/dev/null | grep -q '^Leak '; then return 0; fi
    sleep 0.1
  done
  return 1
}

"$NOTMYFAULT" --leak paged --rate 200000 --duration 60 --quiet &
nmf=$!; pids+=("$nmf")
wait_tagged "$nmf" || { echo "FAIL: notmyfault $nmf never became readable"; exit 1; }

# ---- -n FILE, twice ------------------------------------------------------
mon -n "$T/out1.txt" "$nmf"; rc=$?
check "-n out1.txt exits 0" [ "$rc" = 0 ]
sleep 2
mon -n "$T/out2.txt" "$nmf"; rc=$?
check "-n out2.txt exits 0" [ "$rc" = 0 ]
echo "--- out2.txt"; cat "$T/out2.txt"; echo "---"

d1=$(field "$T/out1.txt" Leak Paged 7); b1=$(field "$T/out1.txt" Leak Paged 9)
d2=$(field "$T/out2.txt" Leak Paged 7); b2=$(field "$T/out2.txt" Leak Paged 9)
check "Leak Paged row in both files ($d1/$b1, $d2/$b2)" \
  [ -n "$d1" ] && [ -n "$b1" ] && [ -n "$d2" ] && [ -n "$b2" ]
d1=${d1:-0} b1=${b1:-0} d2=${d2:-0} b2=${b2:-0}
check "Leak Diff grew ($d1 -> $d2)" [ "$d2" -gt "$d1" ]
check "Leak Bytes grew ($b1 -> $b2)" [ "$b2" -gt "$b1" ]
# 200,000 B/s for at least 2 s: at least 300,000 more bytes.
check "Leak Bytes grew at the leak rate (+$((b2 - b1)))" [ $((b2 - b1)) -ge 300000 ]
check "Leak Per Alloc is the 1 KiB block" [ "$(field "$T/out2.txt" Leak Paged 11)" = 1024 ]
check "Leak Frees is 0" [ "$(field "$T/out2.txt" Leak Paged 5)" = 0 ]
check "one reading: changes are (0)" [ "$(field "$T/out2.txt" Leak Paged 10)" = "(0)" ]
check "title names process, pid and sort" \
  grep -q "^notmyfault (pid $nmf)  RSS .*sort: bytes desc  pool: both" "$T/out2.txt"
check "sorted by bytes: Leak on top" [ "$(rows "$T/out2.txt" | awk 'NR == 1 { print $1 }')" = Leak ]
check "bytes order is descending" \
  bash -c "awk 'NR > 2 && !NF { exit } NR > 2 { print \$9 }' '$T/out2.txt' | sort -c -n -r"
check "background tags shown (Cach Paged, Conf Nonp)" \
  [ -n "$(field "$T/out2.txt" Cach Paged 9)" ] && [ -n "$(field "$T/out2.txt" Conf Nonp 9)" ]
for f in 3 5 7 9; do
  sp=$(total "$T/out2.txt" Paged $f); sn=$(total "$T/out2.txt" Nonp $f); sb=$(total "$T/out2.txt" Both $f)
  check "totals add up in field $f ($sp + $sn = $sb)" [ -n "$sb" ] && [ $((sp + sn)) = "$sb" ]
done
sum=$(rows "$T/out2.txt" | awk '$2 == "Paged" { s += $9 } END { print s + 0 }')
check "Total Paged Bytes = sum of the Paged rows" [ "$sum" = "$(total "$T/out2.txt" Paged 9)" ]

# ---- filters -------------------------------------------------------------
mon -n "$T/inc.txt" -i 'Le*' "$nmf"
check "-i 'Le*' shows only Leak" [ "$(rows "$T/inc.txt" | awk '{ print $1 }' | sort -u)" = Leak ]
mon -n "$T/inc2.txt" -i '?ach' -i Conf "$nmf"
check "-i '?ach' -i Conf shows Cach and Conf" \
  [ "$(rows "$T/inc2.txt" | awk '{ print $1 }' | sort -u | tr '\n' ' ')" = "Cach Conf " ]
mon -n "$T/exc.txt" -x Leak -x 'S*' "$nmf"
check "-x Leak -x 'S*' hides Leak and Sess" \
  bash -c "! awk 'NR > 2 && !NF { exit } NR > 2 { print \$1 }' '$T/exc.txt' | grep -qE '^(Leak|Sess)$'"
check "-x keeps the other tags" [ -n "$(field "$T/exc.txt" Cach Paged 9)" ]
check "totals do not depend on filters" \
  [ "$(total "$T/exc.txt" Both 3)" -ge "$(total "$T/out2.txt" Both 3)" ]
mon -n "$T/np.txt" -p nonpaged "$nmf"
check "-p nonpaged shows only Nonp rows" [ "$(rows "$T/np.txt" | awk '{ print $2 }' | sort -u)" = Nonp ]
mon -n "$T/pg.txt" -p paged "$nmf"
check "-p paged shows only Paged rows" [ "$(rows "$T/pg.txt" | awk '{ print $2 }' | sort -u)" = Paged ]
mon -n "$T/none.txt" -i 'Zz*' "$nmf"
check "no match says so" grep -q "no tag with counts matches" "$T/none.txt"

# ---- sort ----------------------------------------------------------------
mon -n "$T/tag.txt" --sort=tag "$nmf"
tags=$(rows "$T/tag.txt" | awk '{ print $1 }')
check "--sort=tag: rows in tag order" [ "$tags" = "$(LC_ALL=C sort <<<"$tags")" ]
check "--sort=tag: title says so" grep -q "sort: tag asc" "$T/tag.txt"
mon -n "$T/allocs.txt" --sort=allocs "$nmf"
check "--sort=allocs: descending allocs" \
  bash -c "awk 'NR > 2 && !NF { exit } NR > 2 { print \$3 }' '$T/allocs.txt' | sort -c -n -r"

# ---- -g (Mapped) ---------------------------------------------------------
mon -n "$T/g.txt" -g "$nmf"
check "-g adds the Mapped column" bash -c "sed -n 2p '$T/g.txt' | grep -q 'Per Alloc  Mapped$'"
if [ -f "${POOLTAG_DB:-}" ] && grep -q '^Leak *- ' "$POOLTAG_DB"; then
  want=$(awk -F' - ' '$1 ~ /^Leak *$/ { print $2; exit }' "$POOLTAG_DB" | sed 's/ *$//')
  got=$(rows "$T/g.txt" | awk '$1 == "Leak" { $1 = $2 = $3 = $4 = $5 = $6 = $7 = $8 = $9 = $10 = $11 = ""; sub(/^ */, ""); print; exit }')
  check "-g: Leak mapped to '$want' ($POOLTAG_DB)" [ "$got" = "$want" ]
else
  echo "note - no Leak entry in POOLTAG_DB=${POOLTAG_DB:-}; Mapped value not checked"
fi

# ---- --json --------------------------------------------------------------
mon --json "$nmf" >"$T/out.json"; rc=$?
check "--json exits 0" [ "$rc" = 0 ]
mon --json -p nonpaged -n "$T/np.json" "$nmf"
if command -v python3 >/dev/null; then
  check "--json parses, Leak paged grows, totals add up" python3 - "$T/out.json" "$T/np.json" "$nmf" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
np = json.load(open(sys.argv[2]))
assert d["source"]["pid"] == int(sys.argv[3]) and d["source"]["kind"] == "live", d
assert d["source"]["comm"] == "notmyfault", d["source"]["comm"]
leak = [r for r in d["rows"] if r["tag"] == "Leak" and r["type"] == "paged"]
assert len(leak) == 1 and leak[0]["counts"]["bytes"] > 0 and leak[0]["counts"]["frees"] == 0, leak
assert leak[0]["per_alloc"] == 1024 and leak[0]["counts"]["blocks"] == leak[0]["counts"]["allocs"]
t = d["totals"]
for k in ("allocs", "frees", "blocks", "bytes"):
    assert t["paged"]["counts"][k] + t["nonpaged"]["counts"][k] == t["all"]["counts"][k], k
assert sum(r["counts"]["bytes"] for r in d["rows"] if r["type"] == "paged") == t["paged"]["counts"]["bytes"]
assert np["rows"] and all(r["type"] == "nonpaged" for r in np["rows"]), np["rows"]
PY
else
  echo "note - python3 not installed; --json not validated"
fi

# ---- plain output: one table per interval ---------------------------------
mon --count 3 --interval 0.3 "$nmf" >"$T/plain.txt"; rc=$?
check "plain --count 3 exits 0" [ "$rc" = 0 ]
check "plain --count 3 prints 3 tables" [ "$(grep -c "^notmyfault (pid $nmf)" "$T/plain.txt")" = 3 ]
check "plain tables show Leak's change (+N)" \
  bash -c "awk '\$1 == \"Leak\" && \$10 ~ /^\\(\\+[0-9]+\\)\$/' '$T/plain.txt' | grep -q ."

# The process exits: plain output stops by itself, status 0.
"$NOTMYFAULT" --leak paged --rate 100000 --duration 2 --quiet &
short=$!; pids+=("$short")
wait_tagged "$short" || fail "short notmyfault never became readable"
mon --interval 0.2 "$short" >"$T/exit.out" 2>"$T/exit.err"; rc=$?
check "plain mode stops when the process exits, status 0 (rc $rc)" [ "$rc" = 0 ]
check "it says the process exited" grep -q "pooltag mon: process $short exited" "$T/exit.err"
check "tables were printed until then" [ "$(grep -c "^notmyfault (pid $short)" "$T/exit.out")" -ge 3 ]

# ---- bad input: one line, status 2 -----------------------------------------
bad() {
  local what=$1; shift
  timeout 10 "$POOLTAG" mon "$@" >"$T/bad.out" 2>"$T/bad.err" </dev/null; local rc=$?
  if [ "$rc" = 2 ] && [ "$(wc -l <"$T/bad.err")" = 1 ] && grep -q '^pooltag mon: ' "$T/bad.err" &&
     [ ! -s "$T/bad.out" ]; then
    ok "$what: $(cat "$T/bad.err")"
  else
    fail "$what (rc $rc): $(cat "$T/bad.err")"
  fi
}
bad "no source"
bad "nonexistent PID" 2147483646
bad "untagged process" $$
bad "missing file" "$T/nonexistent.snap"
bad "not a snapshot" "$T/out1.txt"
bad "bad --sort" --sort=size "$nmf"
bad "bad --interval" --interval 0 "$nmf"
bad "bad -p" -p huge "$nmf"
bad "unknown option" --frobnicate "$nmf"
bad "two sources" "$nmf" "$nmf"
bad "unwritable -n" -n "$T/no/such/dir/out.txt" "$nmf"

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
