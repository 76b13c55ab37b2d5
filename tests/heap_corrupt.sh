#!/usr/bin/env bash
# A core whose chunk header was overwritten (a copy of heapfix's gcore,
# patched at one busy block's size field): heap reports the arena as
# corrupt at that chunk with exit status 1, the other arenas whole; --stat
# still works (exit 0); a size pointing off the map is never followed.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/heap_lib.sh"

start_heapfix
take_gcore "$HF_PID" "$T/core"
# a 200-byte block of the main arena: the first block line is the main
# thread's first 56-byte block; take the first 200-byte one
A=$(awk '$1 == "block" && $3 == 200 { print $2; exit }' "$T/hf.out")
[ -n "$A" ] || fail "no 200-byte block in heapfix's report"
patch_core() { # CORE ADDR VALUE: write the 8-byte VALUE at ADDR in CORE
    /usr/bin/python3 - "$@" <<'PY'
import struct, sys
path, addr, val = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3], 16)
with open(path, "r+b") as f:
    eh = f.read(64)
    phoff, = struct.unpack_from("<Q", eh, 32)
    phentsize, phnum = struct.unpack_from("<HH", eh, 54)
    for i in range(phnum):
        f.seek(phoff + i * phentsize)
        t, _, off, va, _, filesz = struct.unpack("<IIQQQQ", f.read(40))
        if t == 1 and va <= addr < va + filesz:
            f.seek(off + addr - va)
            f.write(struct.pack("<Q", val))
            sys.exit(0)
sys.exit("address not in the core")
PY
}
for val in 0x4141414141414140 0x7ffffff0 0x18 0x1234567; do
    cp "$T/core" "$T/bad"
    patch_core "$T/bad" "$(printf '0x%x' $((A - 8)))" "$val" || fail "cannot patch the core"
    rc=0
    "$POOLTAG" heap "$T/bad" >"$T/tab" 2>"$T/err" || rc=$?
    [ "$rc" = 1 ] || fail "size $val: exit $rc, expected 1: $(cat "$T/err")"
    chunk=$(printf '0x%x' $((A - 16)))
    grep -q "^main arena .*corrupt at $chunk: chunk size " "$T/tab" ||
        fail "size $val: the main arena row does not say where: $(cat "$T/tab")"
    [ "$(grep -c 'corrupt at' "$T/tab")" = 1 ] || fail "size $val: other arenas reported corrupt"
    "$POOLTAG" heap --stat --json "$T/bad" >"$T/st.json" 2>"$T/err" || fail "size $val: --stat: $(cat "$T/err")"
    "$POOLTAG" heap --json "$T/bad" >"$T/s.json"
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" heap "$T/s.json" || fail "size $val: schema"
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); h=[x for x in d["heaps"] if x["kind"]=="glibc main arena"][0]; sys.exit(h["corrupt"]["at"] != sys.argv[2])' "$T/s.json" "$chunk" ||
        fail "size $val: JSON corrupt.at is not $chunk"
done
echo PASS
