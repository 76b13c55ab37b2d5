#!/usr/bin/python3
"""gheap_seeds.py POOLTAG CORE OUTDIR — seeds of fuzz_gheap from a gcore of
tests/heapfix: libc's data segment holding main_arena, the brk heap, and
the first thread arena's heap region (its dumped bytes), in fuzz_gheap's
input format (48-byte header: three bases, three lengths; then the bytes);
plus damaged variants (a chunk size, a fastbin head, a tcache count, the
arena ring, cut short)."""
import json
import os
import struct
import subprocess
import sys

pooltag, core, out = sys.argv[1:4]
d = json.loads(subprocess.check_output([pooltag, "heap", "--json", core]))
arenas = [h for h in d["heaps"] if "arena" in h["kind"]]
main = int(arenas[0]["address"], 16)
thread = int(arenas[1]["address"], 16) if len(arenas) > 1 else None
with open(core, "rb") as f:
    img = f.read()
phoff, = struct.unpack_from("<Q", img, 32)
phentsize, phnum = struct.unpack_from("<HH", img, 54)
loads = []
for i in range(phnum):
    t, _, off, va, _, filesz, memsz = struct.unpack_from("<IIQQQQQ", img, phoff + i * phentsize)
    if t == 1 and filesz:
        loads.append((va, off, filesz))


def seg(addr):
    for va, off, sz in loads:
        if va <= addr < va + sz:
            return va, img[off:off + sz]
    sys.exit(f"0x{addr:x} not dumped")


def word(addr):
    va, b = seg(addr)
    return struct.unpack_from("<Q", b, addr - va)[0]


libc = seg(main)
heap = seg(word(main + 96))
third = seg(thread) if thread else (0x10000000, b"")


def pack(regs):
    h = struct.pack("<3Q", *(r[0] for r in regs)) + struct.pack("<3Q", *(len(r[1]) for r in regs))
    return h + b"".join(r[1] for r in regs)


os.makedirs(out, exist_ok=True)
# the ring of arenas must return to main_arena: the first thread arena's
# next is pointed back at it (the other thread arenas are not in the seed)
if thread:
    b = bytearray(third[1])
    struct.pack_into("<Q", b, thread + 2160 - third[0], main)
    third = (third[0], bytes(b))
base = [libc, heap, third]
seeds = {"heapfix": pack(base)}


def patched(i, addr, val, name):
    va, b = base[i]
    b = bytearray(b)
    struct.pack_into("<Q", b, addr - va, val)
    regs = list(base)
    regs[i] = (va, bytes(b))
    seeds[name] = pack(regs)


heap_va = heap[0]
patched(1, heap_va + 0x290 + 8, 0x4141414141414141, "bad_size")          # 2nd chunk
patched(1, heap_va + 0x290 + 8, 0x20000000, "size_off_map")
patched(0, main + 16, heap_va + 0x300, "fastbin_head")                    # fastbinsY[0]
patched(1, heap_va + 0x10, 0x0007000700070007, "tcache_counts")           # counts[0..3]
patched(0, main + 2160, main + 8, "ring")                                  # next
seeds["cut"] = pack([libc, (heap[0], heap[1][: len(heap[1]) // 3]), third])
for name, b in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)
    print(name, len(b))
