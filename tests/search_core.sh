#!/usr/bin/env bash
# pooltag search from cores of the useheap fixture: in a gcore core of the
# paused process, the blob heap's address is found in
# libuseheap.so!blob_heap, and every hit of it is a hit of the same search
# live; --string finds the text the three threads keep in their heaps;
# --width 4 the module's cookie.  A kernel core (ulimit -c) gives the
# global too.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/dumps_lib.sh"
need_useheap
need_gcore

start_useheap 16
pid=$UH_PID
timeout 30 "$POOLTAG" search --json --max 100000 "$pid" "$UH_BLOB" >"$T/live.json" || fail "search live"
take_gcore "$pid" "$T/g.core"
timeout 30 "$POOLTAG" search "$T/g.core" "$UH_BLOB" >"$T/core.txt" || fail "search core exited $?"
grep -qE "^[0-9a-f]{16}  Image +libuseheap.so!blob_heap$" "$T/core.txt" || fail "core: no blob_heap hit: $(cat "$T/core.txt")"
timeout 30 "$POOLTAG" search --json --max 100000 "$T/g.core" "$UH_BLOB" >"$T/core.json" || fail "search core --json"
check_json search "$T/core.json"
python3 - "$T/live.json" "$T/core.json" <<'PY' || fail "core hits differ from live"
import json, sys
live, core = (json.load(open(f)) for f in sys.argv[1:])
L = {h["address"]: h for h in live["hits"]}
C = {h["address"]: h for h in core["hits"]}
# gdb's own reading of the process may leave the value in the stack of
# no thread; everything live is in the core, with the same usage.
assert set(L) <= set(C), (sorted(L), sorted(C))
for a, h in L.items():
    assert C[a]["usage"] == h["usage"] and C[a]["symbol"] == h["symbol"], (h, C[a])
extra = [C[a] for a in set(C) - set(L)]
assert all(h["usage"] in ("Stack", "Anonymous") for h in extra), extra
assert core["source"]["kind"] == "core"
PY
timeout 30 "$POOLTAG" search --json --string useheap-request-19990 --in heap "$T/g.core" >"$T/str.json" ||
    fail "core --string"
[ "$(jget "$T/str.json" 'len(set(h["region_start"] for h in d["hits"])), d["total"]')" = "(3, 3)" ] ||
    fail "core --string: $(cat "$T/str.json")"
timeout 30 "$POOLTAG" search --json -w 4 --in image "$T/g.core" 0x5eed1234 >"$T/w4.json" || fail "core -w 4"
[ "$(jget "$T/w4.json" '[h["symbol"] for h in d["hits"]]')" = "['useheap_cookie']" ] || fail "core -w 4: $(cat "$T/w4.json")"
kill "$pid"

if take_kernel_core 8 "$T/k.core"; then
    timeout 30 "$POOLTAG" search --json --in image "$T/k.core" "$KC_BLOB" >"$T/k.json" || fail "search kernel core: $?"
    check_json search "$T/k.json"
    [ "$(jget "$T/k.json" '[(h["module"], h["symbol"]) for h in d["hits"]]')" = "[('libuseheap.so', 'blob_heap')]" ] ||
        fail "kernel core: $(cat "$T/k.json")"
else
    echo "note: kernel core part skipped: $KC_WHY" >&2
fi
