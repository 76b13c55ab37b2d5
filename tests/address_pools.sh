#!/usr/bin/env bash
# pooltag address on a tagged notmyfault leaking into the nonpaged pool
# (libpooltag's default backend, mimalloc): its 64 KiB nonpaged slabs are
# Heap "pooltag nonpaged pool" and hold at least the bytes `pooltag used`
# counts in the nonpaged pool; mimalloc's segments are Heap "mimalloc
# segment"; the segment is the Segment region.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 not installed" >&2; exit 77; }
start_nmf --leak nonpaged --rate 1M --block 4K
sleep 1
timeout 30 "$POOLTAG" address --json --list "$NMF_PID" >"$T/a.json" || fail "address $NMF_PID"
timeout 30 "$POOLTAG" used --json "$NMF_PID" >"$T/u.json" || fail "used $NMF_PID"
python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" address "$T/a.json" || fail "address JSON"
python3 - "$T/a.json" "$T/u.json" <<'PY' || fail "address of notmyfault: $(head -c 2000 "$T/a.json")"
import json, sys
a, u = (json.load(open(f)) for f in sys.argv[1:])
lst = a["list"]
np = sum(r["size"] for r in lst if r["usage"] == "Heap" and r["detail"] == "pooltag nonpaged pool")
used_np = sum(t["nonpaged"]["bytes"] for t in u["tags"] if t.get("nonpaged"))
assert used_np > 0 and np >= used_np, (np, used_np)
assert any(r["usage"] == "Heap" and r["detail"] == "mimalloc segment" for r in lst), [
    (r["start"], r["usage"], r["detail"]) for r in lst]
seg = [r for r in lst if r["usage"] == "Segment"]
assert len(seg) == 1 and "memfd:pooltag" in seg[0]["path"], seg
PY
