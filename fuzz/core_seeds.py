#!/usr/bin/env python3
"""core_seeds.py CORE SNAPSHOT OUTDIR -- the seeds of fuzz_core.

CORE is a small kernel core (fuzz/make_corpus.sh: sleep dumped with
coredump_filter 0x10, only the first page of its ELF mappings); SNAPSHOT a
pooltag snapshot whose segment image is added to the core as one more
PT_LOAD (found by its magic).  Writes the two cores and damaged variants of
each: cut short, PN_XNUM program header count, a note larger than its
segment, an NT_FILE count larger than its note, PT_LOADs past the end."""
import struct
import sys


def parse(b):
    phoff, = struct.unpack_from("<Q", b, 32)
    phnum, = struct.unpack_from("<H", b, 56)
    phs = [list(struct.unpack_from("<IIQQQQQQ", b, phoff + 56 * i)) for i in range(phnum)]
    return phs


def build(b, phs, extra):
    """A core with the program headers phs (their bytes from b) plus
    extra [(vaddr, bytes)], laid out anew."""
    n = len(phs) + len(extra)
    out = bytearray(b[:64])
    struct.pack_into("<Q", out, 32, 64)
    struct.pack_into("<H", out, 56, n)
    hdrs = []
    data = bytearray()
    base = 64 + 56 * n
    for ph in phs:
        typ, flags, off, vaddr, paddr, filesz, memsz, align = ph
        if typ == 4:  # notes right after the headers, unaligned
            pos = base + len(data)
        else:
            pad = (-(base + len(data))) % 4096
            data += b"\0" * pad
            pos = base + len(data)
        data += b[off:off + filesz]
        hdrs.append([typ, flags, pos, vaddr, paddr, filesz, memsz, align])
    for vaddr, blob in extra:
        pad = (-(base + len(data))) % 4096
        data += b"\0" * pad
        pos = base + len(data)
        size = (len(blob) + 4095) & ~4095
        data += blob + b"\0" * (size - len(blob))
        hdrs.append([1, 6, pos, vaddr, 0, size, size, 4096])
    for h in hdrs:
        out += struct.pack("<IIQQQQQQ", *h)
    return bytes(out + data), hdrs


def main():
    core, snap, outdir = sys.argv[1:4]
    b = open(core, "rb").read()
    s = open(snap, "rb").read()
    seg_off, seg_len = struct.unpack_from("<QQ", s, 104)
    seg = s[seg_off:seg_off + seg_len]
    phs = parse(b)
    plain, hdrs = build(b, phs, [])
    tagged, thdrs = build(b, phs, [(0x10000000000, seg)])
    seeds = {"sleep.core": plain, "tagged.core": tagged}
    for name, img, hs in (("sleep", plain, hdrs), ("tagged", tagged, thdrs)):
        seeds[name + "-cut-notes.core"] = img[:hs[0][2] + hs[0][5] // 2]
        seeds[name + "-cut-half.core"] = img[:len(img) // 2]
        x = bytearray(img)
        struct.pack_into("<H", x, 56, 0xFFFF)  # PN_XNUM, no section header
        seeds[name + "-xnum.core"] = bytes(x)
        x = bytearray(img)
        struct.pack_into("<I", x, hs[0][2] + 4, 0x7FFFFFF0)  # first note's descsz
        seeds[name + "-bignote.core"] = bytes(x)
        x = bytearray(img)
        last = 64 + 56 * (len(hs) - 1)
        struct.pack_into("<Q", x, last + 8, len(img) - 8)  # last PT_LOAD's offset
        seeds[name + "-loadpast.core"] = bytes(x)
    # NT_FILE's count made huge (in the plain core's notes).
    x = bytearray(plain)
    off, end = hdrs[0][2], hdrs[0][2] + hdrs[0][5]
    while off + 12 <= end:
        namesz, descsz, typ = struct.unpack_from("<III", x, off)
        desc = off + 12 + ((namesz + 3) & ~3)
        if typ == 0x46494C45:
            struct.pack_into("<Q", x, desc, 1 << 40)
            break
        off = desc + ((descsz + 3) & ~3)
    seeds["sleep-ntfile-count.core"] = bytes(x)
    for name, img in seeds.items():
        with open(f"{outdir}/{name}", "wb") as f:
            f.write(img)


main()
