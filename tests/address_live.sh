#!/usr/bin/env bash
# pooltag address on the useheap fixture, live (running on, and --stop):
# the regions and their sizes are /proc/PID/maps's; the blob heap's 48 MiB
# region (libuseheap.so's own mmapped arena) is Anonymous and Anonymous
# holds most of the busy memory; glibc's brk heap and the two worker
# threads' arenas are Heap; each of the three threads has its Stack region,
# named with its thread's name; libuseheap.so is an Image; under pooltag
# run the segment is the Segment region (and Anonymous still holds the
# most of the rest); --prot and --modules add up.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/dumps_lib.sh"
need_useheap

# check FILE PID BLOB MB: the JSON of address --list --prot --modules.
check() {
    python3 - "$@" <<'PY' || fail "address $2: $(head -c 3000 "$1")"
import json, os, sys
d = json.load(open(sys.argv[1]))
pid, blob, mb = int(sys.argv[2]), int(sys.argv[3], 16), int(sys.argv[4])
maps = []
for line in open("/proc/%d/maps" % pid):
    a, b = (int(x, 16) for x in line.split()[0].split("-"))
    maps.append((a, b, line.split()[1][:3]))
lst = d["list"]
got = [(int(r["start"], 16), int(r["end"], 16), r["prot"]) for r in lst]
assert got == maps, "regions differ from maps:\n%r\n%r" % (got, maps)
total = sum(b - a for a, b, _ in maps)
busy = sum(b - a for a, b, p in maps if p != "---")
assert d["total"] == total and d["busy"] == busy, (d["total"], total, d["busy"], busy)
assert sum(u["size"] for u in d["usage"]) == total
assert sum(u["regions"] for u in d["usage"]) == len(maps)
assert sum(p["size"] for p in d["protection"]) == total
use = {u["usage"]: u for u in d["usage"]}
# The blob heap: one Anonymous region at the address blob_heap holds,
# and Anonymous holds the most busy memory.
br = [r for r in lst if int(r["start"], 16) == blob]
assert len(br) == 1 and br[0]["usage"] == "Anonymous", br
assert int(br[0]["end"], 16) - blob >= mb << 20, br
tagged = os.environ.get("TAGGED") == "1"
top = max((u for u in d["usage"] if u["usage"] != "Segment"), key=lambda u: u["busy"])
assert top["usage"] == "Anonymous", d["usage"]
big = [l for l in d["largest"] if l["usage"] == "Anonymous"][0]
assert int(big["start"], 16) == blob, big
# Heap: the brk heap and the worker threads' glibc arenas.
heap = [r for r in lst if r["usage"] == "Heap"]
# (Under pooltag run the preload's pools take malloc's place.)
assert tagged or any(r["path"] == "[heap]" for r in heap), heap
assert tagged or sum(1 for r in heap if r["detail"] == "glibc arena heap") == 2, heap
# A Stack region per thread, named after it.
tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
stacks = {r["tid"]: r for r in lst if r["usage"] == "Stack"}
assert sorted(stacks) == tids, (sorted(stacks), tids)
for t in tids:
    name = open("/proc/%d/task/%d/comm" % (pid, t)).read().strip()
    assert stacks[t]["detail"] == "thread %d (%s)" % (t, name), stacks[t]
    assert name in ("useheap_svc", "worker-a", "worker-b"), name
assert d["threads_without_stack"] == [], d["threads_without_stack"]
# Image: libuseheap.so, every mapping of its file.
mods = {m["name"]: m for m in d["modules"]}
assert "libuseheap.so" in mods and "libc.so.6" in mods, sorted(mods)
for r in lst:
    if r["path"] and r["path"].endswith("/libuseheap.so"):
        assert r["usage"] == "Image" and r["detail"] == "libuseheap.so", r
assert sum(m["size"] for m in d["modules"]) == use["Image"]["size"]
assert "Segment" not in use or tagged
if tagged:
    seg = [r for r in lst if r["usage"] == "Segment"]
    assert len(seg) == 1 and "memfd:pooltag" in seg[0]["path"], seg
PY
}

start_useheap 48
pid=$UH_PID
for stop in "" --stop; do
    timeout 30 "$POOLTAG" address --json --list --prot --modules $stop "$pid" >"$T/a.json" ||
        fail "address --json $stop $pid exited $?"
    check_json address "$T/a.json"
    check "$T/a.json" "$pid" "$UH_BLOB" 48
done
[ "$(jget "$T/a.json" 'd["source"]["stopped"]')" = True ] || fail "--stop: source.stopped is not true"
grep -q '^State:.*S (sleeping)' "/proc/$pid/status" || fail "useheap_svc not running on after --stop: $(grep State "/proc/$pid/status")"

# The table: the same usage rows, largest first, and the blob heap's row.
timeout 30 "$POOLTAG" address "$pid" >"$T/a.txt" || fail "address $pid"
first=$(awk '/^Usage +Regions/{getline; print $1; exit}' "$T/a.txt")
[ "$first" = Heap ] || [ "$first" = Anonymous ] || fail "largest usage is $first: $(cat "$T/a.txt")"
grep -qE "^Anonymous +0*${UH_BLOB#0x} " "$T/a.txt" || fail "no largest-Anonymous row at $UH_BLOB: $(cat "$T/a.txt")"
timeout 30 "$POOLTAG" address "$pid" --json >"$T/plain.json" || fail "address --json"
check_json address "$T/plain.json"
kill "$pid"

# Tagged (pooltag run): the segment is the Segment region.
start_useheap 48 "$POOLTAG" run --
timeout 30 "$POOLTAG" address --json --list --prot --modules "$UH_PID" >"$T/t.json" || fail "address tagged"
check_json address "$T/t.json"
TAGGED=1 check "$T/t.json" "$UH_PID" "$UH_BLOB" 48
