#!/usr/bin/env bash
# Live reading of a running notmyfault through each of the three ways the
# reader knows (the memfd descriptor, /proc/PID/map_files, /proc/PID/mem):
# each must give the same steady figures, and repeated readings of a
# growing leak must never go backwards.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault

start_nmf --leak paged --rate 512K --threads 2 --load --period 2
pid=$NMF_PID
wait_tagged "$pid" Leak

# The steady tags are exact: Cach 16 x 16 KiB paged, Conf 24 x 96 B nonpaged.
check_steady() {
    python3 - "$1" <<'EOF' || fail "steady figures wrong via $2"
import json, sys
d = json.load(open(sys.argv[1]))
t = {r["tag"]: r for r in d["tags"]}
assert t["Cach"]["paged"]["bytes"] == 262144, t["Cach"]
assert t["Cach"]["paged"]["blocks"] == 16, t["Cach"]
assert t["Conf"]["nonpaged"]["bytes"] == 2304, t["Conf"]
assert t["Leak"]["paged"]["allocs"] > 0, t["Leak"]
assert t["Leak"]["paged"]["frees"] == 0, t["Leak"]
EOF
}

# The runtime keeps no descriptor of its segment open (the program would see
# it), so the fd way finds nothing; map_files and mem work.
ls -l /proc/$pid/fd | grep -q 'memfd:pooltag' && fail "the tagged process has its segment's fd open"
for via in map_files mem; do
    if [ "$via" = map_files ] && [ "$(id -u)" != 0 ]; then
        continue   # needs CAP_SYS_ADMIN
    fi
    POOLTAG_READ_VIA=$via timeout 20 "$POOLTAG" used --json "$pid" >"$T/$via.json" ||
        fail "used via $via failed"
    json_ok "$T/$via.json"
    check_steady "$T/$via.json" "$via"
done

# Readings taken one after another: the leak only grows, the Load tag's
# outstanding count is never negative, totals equal the sum of the rows.
prev=0
for i in $(seq 12); do
    timeout 20 "$POOLTAG" used --json "$pid" >"$T/r.json" || fail "reading $i failed"
    cur=$(python3 - "$T/r.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = {r["tag"]: r for r in d["tags"]}
for r in d["tags"]:
    for p in ("paged", "nonpaged"):
        assert r[p]["blocks"] >= 0, r
        assert r[p]["bytes"] >= 0, r
for p in ("paged", "nonpaged"):
    assert d["total"][p]["bytes"] == sum(r[p]["bytes"] for r in d["tags"])
print(t["Leak"]["paged"]["bytes_alloc"])
EOF
) || fail "inconsistent reading $i"
    [ "$cur" -ge "$prev" ] || fail "leak went backwards: $prev -> $cur"
    prev=$cur
done
[ "$prev" -gt 0 ] || fail "no leak seen"

# A process whose segment is gone mid-way: the reader reports the exit.
kill "$pid"
wait "$pid" 2>/dev/null
expect_error used "no process with PID $pid" "$POOLTAG" used "$pid"
echo "reader live tests passed"
