#!/usr/bin/env bash
# pooltag address from cores of the useheap fixture: a gcore core of the
# paused process gives the regions, usages, busy bytes and stacks (by the
# threads' stack pointers) of the same process read live with --stop; the
# blob heap's region is Anonymous and holds most of the busy memory; a
# kernel core (ulimit -c, the default coredump_filter: file mappings'
# bytes left out) gives the same usage for every anonymous region.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/dumps_lib.sh"
need_useheap
need_gcore

start_useheap 32
pid=$UH_PID
timeout 30 "$POOLTAG" address --json --list --prot --modules --stop "$pid" >"$T/live.json" || fail "address live"
take_gcore "$pid" "$T/g.core"
timeout 30 "$POOLTAG" address --json --list --prot --modules "$T/g.core" >"$T/core.json" ||
    fail "address core exited $?"
check_json address "$T/core.json"
python3 - "$T/live.json" "$T/core.json" "$UH_BLOB" <<'PY' || fail "address of the gcore core differs from live"
import json, sys
live, core = (json.load(open(f)) for f in sys.argv[1:3])
blob = int(sys.argv[3], 16)
assert core["source"]["kind"] == "core" and core["source"]["pid"] == live["source"]["pid"], core["source"]
L = {r["start"]: r for r in live["list"]}
C = {r["start"]: r for r in core["list"]}
# Every region the core has is one live; the only ones it lacks are those
# gdb does not dump ([vvar]).
for s, r in C.items():
    assert s in L, "core region %s not live" % s
    l = L[s]
    assert r["end"] == l["end"], (r, l)
    assert r["usage"] == l["usage"], (r, l)
    if r["usage"] == "Stack":
        assert r["tid"] == l["tid"], (r, l)
for s, l in L.items():
    assert s in C or l["path"] in ("[vvar]", "[vvar_vclock]"), "live region missing in the core: %r" % l
stacks = sorted(r["tid"] for r in core["list"] if r["usage"] == "Stack")
assert stacks == sorted(r["tid"] for r in live["list"] if r["usage"] == "Stack") and len(stacks) == 3, stacks
assert core["threads_without_stack"] == []
assert core["busy"] == live["busy"] - sum(int(r["end"], 16) - int(r["start"], 16) for r in live["list"]
                                         if r["start"] not in C and r["prot"] != "---"), (core["busy"], live["busy"])
b = [r for r in core["list"] if int(r["start"], 16) == blob]
assert b and b[0]["usage"] == "Anonymous" and b[0]["avail"] == int(b[0]["end"], 16) - blob, b
assert max(core["usage"], key=lambda u: u["busy"])["usage"] == "Anonymous", core["usage"]
PY
kill "$pid"

if take_kernel_core 16 "$T/k.core"; then
    timeout 30 "$POOLTAG" address --json --list "$T/k.core" >"$T/k.json" || fail "address kernel core exited $?"
    check_json address "$T/k.json"
    python3 - "$T/k.json" "$KC_BLOB" <<'PY' || fail "address of the kernel core: $(head -c 3000 "$T/k.json")"
import json, sys
d = json.load(open(sys.argv[1]))
blob = int(sys.argv[2], 16)
lst = d["list"]
b = [r for r in lst if int(r["start"], 16) == blob]
assert b and b[0]["usage"] == "Anonymous", b
heap = [r["detail"] for r in lst if r["usage"] == "Heap"]
assert "brk heap (glibc main arena)" in heap and heap.count("glibc arena heap") == 2, heap
assert len([r for r in lst if r["usage"] == "Stack"]) == 3 and d["threads_without_stack"] == [], lst
assert any(r["usage"] == "Image" and r["detail"] == "libuseheap.so" for r in lst)
assert max(d["usage"], key=lambda u: u["busy"])["usage"] == "Anonymous", d["usage"]
PY
else
    echo "note: kernel core part skipped: $KC_WHY" >&2
fi
