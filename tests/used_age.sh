#!/usr/bin/env bash
# Issue 15: `used --suspects`, `used --age` and `sites --age` on a live
# `notmyfault --leak paged --rate 16K --load --period 2` (a steady leak and
# a load whose requests all end at every trough, 2 s apart), and on a
# snapshot of it: the Leak tag's site is the first suspect and the Load
# site is never listed; Leak holds bytes older than 10 s, Load none; every
# document follows docs/json.md.  Then the errors: a source without age
# epochs (exit 2, one line, nothing on stdout) and options that do not go
# together.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 not installed" >&2; exit 77; }

check() {
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" "$1" "$2" ||
        fail "$1: $2 does not follow docs/json.md: $(head -c 800 "$2")"
}
# suspects FILE: the suspects' tags, in rank order, one line.
suspects() {
    python3 -c 'import json,sys; print(" ".join(s["tag"] for s in json.load(open(sys.argv[1]))["suspects"]))' "$1"
}

start_nmf --leak paged --rate 16K --load --period 2
pid=$NMF_PID
wait_tagged "$pid" Leak
sleep 12
# The leak needs old bytes in 3 epochs; notmyfault's epochs begin every
# 4096 allocations (about every 4.5 s here), so wait for them (at most
# 30 s more).
for _ in $(seq 30); do
    timeout 30 "$POOLTAG" used --suspects --json "$pid" >"$T/s.json" 2>"$T/err" ||
        fail "used --suspects --json exited $?: $(cat "$T/err")"
    [ "$(suspects "$T/s.json" | cut -d' ' -f1)" = Leak ] && break
    sleep 1
done
check used_suspects "$T/s.json"
list=$(suspects "$T/s.json")
[ "${list%% *}" = Leak ] || fail "first suspect: '$list', not Leak"
case " $list " in *" Load "*) fail "the Load site is a suspect: $list" ;; esac

timeout 30 "$POOLTAG" used --suspects "$pid" >"$T/s.txt" || fail "used --suspects exited $?"
cat "$T/s.txt"
grep -q 'A suspicion, not a verdict' "$T/s.txt" || fail "no 'not a verdict' in the header"
first=$(awk '/^   #  Tag/{getline; getline; print $2; exit}' "$T/s.txt")
[ "$first" = Leak ] || fail "table: first suspect '$first'"
grep -A1 '^ *1  Leak ' "$T/s.txt" | grep -q 'frees none; bytes in [0-9]* of [0-9]* old epochs' ||
    fail "no evidence line under Leak"
grep -q '^ *[0-9]*  Load ' "$T/s.txt" && fail "table lists Load"
grep -q 'notmyfault!leak_step' "$T/s.txt" || fail "the Leak site is not symbolized"

# The snapshot carries the ages: the same suspects.
timeout 30 "$POOLTAG" snap -o "$T/n.ptsnap" "$pid" >/dev/null || fail "snap exited $?"
timeout 30 "$POOLTAG" used --suspects --json "$T/n.ptsnap" >"$T/ss.json" || fail "snapshot suspects"
check used_suspects "$T/ss.json"
list=$(suspects "$T/ss.json")
[ "${list%% *}" = Leak ] || fail "snapshot: first suspect '$list'"
case " $list " in *" Load "*) fail "snapshot: the Load site is a suspect" ;; esac

# Ages per tag: Leak's bytes spread over 10s-1m and <10s, Load's only <10s.
timeout 30 "$POOLTAG" used --age --json "$pid" >"$T/a.json" || fail "used --age --json"
check used "$T/a.json"
python3 - "$T/a.json" <<'PY' || fail "used --age: wrong bands"
import json, sys
d = json.load(open(sys.argv[1]))
tags = {t["tag"]: t for t in d["tags"]}
names = [b["name"] for b in d["age"]["bands"]]
leak = [b["bytes"] for b in tags["Leak"]["age"]["bands"]]
load = [b["bytes"] for b in tags["Load"]["age"]["bands"]]
assert leak[names.index("10s-1m")] > 0 and leak[0] > 0, leak
assert sum(load[1:]) == 0, load
for t in d["tags"]:
    bands = sum(b["bytes"] for b in t["age"]["bands"])
    epochs = sum(e["bytes"] for e in t["age"]["epochs"])
    assert bands == epochs, (t["tag"], bands, epochs)
    assert len(t["age"]["epochs"]) == len(d["age"]["epochs"])
PY
timeout 30 "$POOLTAG" used --age "$pid" >"$T/a.txt" || fail "used --age"
cat "$T/a.txt"
grep -q '^ Tag      Blocks        Bytes      <10s    10s-1m' "$T/a.txt" || fail "no band heading"
grep -q 'no age is overstated' "$T/a.txt" || fail "no legend"
grep -Eq '^ Load +[0-9]+ +[0-9]+ +(-|[0-9.]+ [KMG]?i?B) +- +- +- +- +- ' "$T/a.txt" ||
    fail "the table shows Load bytes older than 10 s"

timeout 30 "$POOLTAG" sites --age --json "$pid" Leak >"$T/st.json" || fail "sites --age --json"
check sites "$T/st.json"
timeout 30 "$POOLTAG" sites --age "$T/n.ptsnap" Leak >"$T/st.txt" || fail "sites --age"
grep -q 'notmyfault!leak_step' "$T/st.txt" || fail "sites --age: no symbol"

# ---- errors ------------------------------------------------------------------
gen=$PT_BUILD/tests/test_reader_parse
[ -x "$gen" ] || fail "$gen not built"
"$gen" --write-snapshot "$T/old.ptsnap" || fail "cannot write the sample snapshot"
err() {  # err CMD...: exit status 2, one line on stderr, nothing on stdout
    "$@" >"$T/o" 2>"$T/e"
    local rc=$?
    [ $rc = 2 ] || fail "$* exited $rc, not 2"
    [ ! -s "$T/o" ] || fail "$* wrote to stdout"
    [ "$(wc -l <"$T/e")" = 1 ] || fail "$*: not one line: $(cat "$T/e")"
}
for opt in --age --suspects; do
    err "$POOLTAG" used $opt "$T/old.ptsnap"
    grep -q "old.ptsnap has no age epochs" "$T/e" || fail "used $opt: $(cat "$T/e")"
done
# The segment of the snapshot as a bare image, its age flag cleared: a
# segment of a runtime before age epochs, with call sites.
python3 - "$T/n.ptsnap" "$T/noage.seg" <<'PY' || fail "cannot write the image without ages"
import struct, sys
b = open(sys.argv[1], "rb").read()
off, n = struct.unpack_from("<QQ", b, 104)
seg = bytearray(b[off:off + n])
flags, = struct.unpack_from("<I", seg, 52)
struct.pack_into("<I", seg, 52, flags & ~0x10)
open(sys.argv[2], "wb").write(seg)
PY
timeout 30 "$POOLTAG" sites "$T/noage.seg" Leak >/dev/null || fail "the image without ages does not read"
err "$POOLTAG" sites --age "$T/noage.seg" Leak
grep -q "noage.seg has no age epochs" "$T/e" || fail "sites --age: $(cat "$T/e")"
err "$POOLTAG" used --suspects "$T/noage.seg"
err "$POOLTAG" used --age --suspects "$pid"
err "$POOLTAG" used --suspects --sort=paged "$pid"
err "$POOLTAG" used --debuginfod "$pid"
echo "used_age: ok"
