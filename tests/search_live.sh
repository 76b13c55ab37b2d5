#!/usr/bin/env bash
# pooltag search on the useheap fixture, live: the address of
# libuseheap.so's own heap is found in libuseheap.so!blob_heap (the only
# Image hit), and the hits of every region are exactly those a plain read
# of /proc/PID/mem finds (aligned 8-byte words); --width 4 and 2 find the
# 32-bit useheap_cookie, --unaligned finds it one byte in; --string finds
# the request text each of the three threads keeps, in the heap; --max
# truncates and counts the rest; no hit is exit status 1.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/dumps_lib.sh"
need_useheap

start_useheap 16
pid=$UH_PID
blob=$UH_BLOB

# 1. The global that holds the heap's address.
timeout 30 "$POOLTAG" search "$pid" "$blob" >"$T/s.txt" || fail "search $pid $blob exited $?"
grep -qE "^[0-9a-f]{16}  Image +libuseheap.so!blob_heap$" "$T/s.txt" || fail "no blob_heap hit: $(cat "$T/s.txt")"
timeout 30 "$POOLTAG" search --json --in image "$pid" "$blob" >"$T/img.json" || fail "search --in image"
check_json search "$T/img.json"
[ "$(jget "$T/img.json" '[(h["module"], h["symbol"], h["offset"]) for h in d["hits"]]')" = \
    "[('libuseheap.so', 'blob_heap', 0)]" ] || fail "image hits: $(cat "$T/img.json")"

# 2. Every region: the same hits as a plain read of the process's memory.
timeout 30 "$POOLTAG" search --json --max 100000 "$pid" "$blob" >"$T/all.json" || fail "search all"
check_json search "$T/all.json"
python3 - "$T/all.json" "$pid" "$blob" <<'PY' || fail "search hits differ from /proc/PID/mem"
import json, struct, sys
d = json.load(open(sys.argv[1]))
pid, val = int(sys.argv[2]), int(sys.argv[3], 16)
pat = struct.pack("<Q", val)
want = set()
mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
for line in open("/proc/%d/maps" % pid):
    f = line.split()
    a, b = (int(x, 16) for x in f[0].split("-"))
    if f[1][0] != "r" or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
        continue
    try:
        mem.seek(a)
        data = mem.read(b - a)
    except OSError:
        continue
    i = data.find(pat)
    while i >= 0:
        if i % 8 == 0:
            want.add(a + i)
        i = data.find(pat, i + 1)
got = {int(h["address"], 16) for h in d["hits"]}
assert d["total"] == len(d["hits"]) and not d["truncated"], d["total"]
# The process sleeps in pause(): its memory does not change.
assert got == want, ("pooltag", sorted(map(hex, got)), "python", sorted(map(hex, want)))
assert len(got) >= 1
PY

# 3. Narrower numbers: the 32-bit cookie, and its low half.
timeout 30 "$POOLTAG" search --json --width 4 --in image "$pid" 0x5eed1234 >"$T/w4.json" || fail "--width 4"
check_json search "$T/w4.json"
[ "$(jget "$T/w4.json" '[h["symbol"] for h in d["hits"]]')" = "['useheap_cookie']" ] ||
    fail "--width 4: $(cat "$T/w4.json")"
cookie=$(jget "$T/w4.json" 'd["hits"][0]["address"]')
timeout 30 "$POOLTAG" search --json -w 2 --in image "$pid" 0x1234 >"$T/w2.json" || fail "--width 2"
jget "$T/w2.json" '[h["address"] for h in d["hits"]]' | grep -q "'$cookie'" || fail "--width 2: $(cat "$T/w2.json")"
# 0xed12 is the cookie's bytes 1 and 2: found at cookie + 1 only unaligned.
c1=$(printf '0x%x' $((cookie + 1)))
timeout 30 "$POOLTAG" search --json --width 2 --unaligned --in image "$pid" 0xed12 >"$T/u.json" || fail "--unaligned"
jget "$T/u.json" '[(h["address"], h["symbol"], h["offset"]) for h in d["hits"]]' |
    grep -qF "('$c1', 'useheap_cookie', 1)" || fail "--unaligned: $(cat "$T/u.json")"
timeout 30 "$POOLTAG" search --json --width 2 --in image "$pid" 0xed12 >"$T/a2.json"
jget "$T/a2.json" '[h["address"] for h in d["hits"]]' | grep -qF "'$c1'" && fail "aligned search hit $c1"
timeout 30 "$POOLTAG" search --json -w 1 --max 1000000 --in image "$pid" 0x5e >"$T/w1.json" || fail "--width 1"
jget "$T/w1.json" '[h["address"] for h in d["hits"]]' | grep -qF "'$(printf '0x%x' $((cookie + 3)))'" ||
    fail "--width 1: no hit at the cookie's byte 3"

# 4. A string each thread keeps in its heap (useheap_svc: request 19990).
timeout 30 "$POOLTAG" search --json --string useheap-request-19990 --in heap "$pid" >"$T/str.json" ||
    fail "--string"
check_json search "$T/str.json"
[ "$(jget "$T/str.json" 'sorted(set(h["usage"] for h in d["hits"])), len(set(h["region_start"] for h in d["hits"]))')" = \
    "(['Heap'], 3)" ] || fail "--string: not one hit in each of 3 heaps: $(cat "$T/str.json")"
timeout 30 "$POOLTAG" search --string useheap-request-19990 --in stack,image "$pid" >"$T/none.txt"
rc=$?
[ "$rc" = 1 ] || fail "no hit: exit $rc, expected 1: $(cat "$T/none.txt")"
grep -q ': 0 hits$' "$T/none.txt" || fail "no hit: $(cat "$T/none.txt")"

# 5. --max: two shown, the rest counted.
timeout 30 "$POOLTAG" search --json --max 2 "$pid" 0 >"$T/max.json" || fail "--max 2"
check_json search "$T/max.json"
[ "$(jget "$T/max.json" 'len(d["hits"]) == 2 and d["truncated"] and d["total"] > 2')" = True ] ||
    fail "--max 2: $(head -c 600 "$T/max.json")"
timeout 30 "$POOLTAG" search --max 2 "$pid" 0 >"$T/max.txt" || fail "--max 2 table"
total=$(jget "$T/max.json" 'd["total"]')
grep -qx "\.\.\. more hits not shown: $((total - 2)) (raise --max)" "$T/max.txt" ||
    fail "--max 2 table: $(cat "$T/max.txt")"

# 6. Overlapping matches across the 4 MiB chunks of a live read: the blob
# heap is one run of 'b' bytes; every (overlapping) occurrence of 16 'b's
# and of the 8-byte word 0x6262626262626262 at any address is counted once,
# as a plain read of the process's memory counts them.
timeout 60 "$POOLTAG" search --json --max 0 --string bbbbbbbbbbbbbbbb "$pid" >"$T/bs.json" || fail "--string b*16"
timeout 60 "$POOLTAG" search --json --max 0 --unaligned "$pid" 0x6262626262626262 >"$T/bu.json" || fail "--unaligned b*8"
python3 - "$T/bs.json" "$T/bu.json" "$pid" <<'PY' || fail "overlapping counts differ from /proc/PID/mem"
import json, re, sys
s, u = (json.load(open(f))["total"] for f in sys.argv[1:3])
pid = int(sys.argv[3])
c16 = c8 = 0
mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
for line in open("/proc/%d/maps" % pid):
    f = line.split()
    a, b = (int(x, 16) for x in f[0].split("-"))
    if f[1][0] != "r" or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
        continue
    try:
        mem.seek(a)
        data = mem.read(b - a)
    except OSError:
        continue
    for m in re.finditer(rb"b{8,}", data):
        n = m.end() - m.start()
        c8 += n - 7
        c16 += max(0, n - 15)
assert c16 > 4 << 20 and s == c16, (s, c16)
assert u == c8, (u, c8)
PY
