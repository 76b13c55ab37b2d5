#!/usr/bin/python3
"""heap_check.py — checks of `pooltag heap --json` output for tests/heap_*.sh.

mallinfo JSON REPORT
    REPORT has the line "mallinfo2 arena=.. ordblks=.. ..." that the
    process printed from inside (mallinfo2()), and maybe "tcache N BYTES"
    (what heapfix put in tcaches by design).  glibc's mallinfo2 counts
    tcache chunks as in use; heap counts them free, so:
      arena    == sum of the arenas' system_mem
      fordblks == sum of (free_bytes - tcache_bytes + top_bytes)
      ordblks  == sum of (free_chunks - fast_chunks - tcache_chunks + 1)
                  (mallinfo counts each arena's top as one free chunk)
      smblks, fsmblks == fast chunks, fast bytes
      hblks, hblkhd   == the mmapped row's chunks and bytes
      tcache   == the tcache chunks and bytes (when REPORT says)
stat JSON REPORT
    every usable size of REPORT's "block ADDR USABLE" lines has exactly
    that many blocks in heap --stat --top 0.
size JSON REPORT USABLE
    heap --size USABLE --max 0 lists exactly REPORT's blocks of that size.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def report(path):
    mi, tc, blocks = None, None, []
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "mallinfo2":
                mi = {k: int(v) for k, v in (x.split("=") for x in w[1:])}
            elif w[0] == "tcache":
                tc = (int(w[1]), int(w[2]))
            elif w[0] == "block":
                blocks.append((int(w[1], 16), int(w[2])))
    return mi, tc, blocks


def check(errors, what, got, want):
    if got != want:
        errors.append(f"{what}: heap says {got}, expected {want}")


def main():
    mode = sys.argv[1]
    d = load(sys.argv[2])
    mi, tc, blocks = report(sys.argv[3])
    errors = []
    if mode == "mallinfo":
        heaps = d["heaps"]
        ar = [h for h in heaps if h["kind"] in ("glibc main arena", "glibc thread arena")]
        mm = [h for h in heaps if h["kind"] == "glibc mmapped chunks"]
        if not ar or len(mm) != 1:
            errors.append(f"no arenas or no mmapped row: {heaps}")
        else:
            for h in ar:
                if h["corrupt"] is not None:
                    errors.append(f"arena {h['address']} reported corrupt: {h['corrupt']}")
            check(errors, "arena", sum(h["system_mem"] for h in ar), mi["arena"])
            check(errors, "fordblks",
                  sum(h["free_bytes"] - h["tcache_bytes"] + h["top_bytes"] for h in ar),
                  mi["fordblks"])
            check(errors, "ordblks",
                  sum(h["free_chunks"] - h["fast_chunks"] - h["tcache_chunks"] + 1 for h in ar),
                  mi["ordblks"])
            check(errors, "smblks", sum(h["fast_chunks"] for h in ar), mi["smblks"])
            check(errors, "fsmblks", sum(h["fast_bytes"] for h in ar), mi["fsmblks"])
            check(errors, "hblks", mm[0]["busy_chunks"], mi["hblks"])
            check(errors, "hblkhd", mm[0]["busy_bytes"], mi["hblkhd"])
            if tc is not None:
                check(errors, "tcache chunks", sum(h["tcache_chunks"] for h in ar), tc[0])
                check(errors, "tcache bytes", sum(h["tcache_bytes"] for h in ar), tc[1])
    elif mode == "stat":
        want = {}
        for _, u in blocks:
            want[u] = want.get(u, 0) + 1
        got = {g["usable_size"]: g["count"] for g in d["groups"]}
        for u, n in sorted(want.items()):
            check(errors, f"blocks of usable size {u}", got.get(u), n)
        check(errors, "busy_blocks = sum of the groups", sum(got.values()), d["busy_blocks"])
    elif mode == "size":
        u = int(sys.argv[4])
        want = sorted(a for a, s in blocks if s == u)
        got = sorted(int(b["address"], 16) for b in d["blocks"])
        check(errors, f"blocks of usable size {u}", [hex(a) for a in got], [hex(a) for a in want])
        if not want:
            errors.append(f"the report has no block of usable size {u}")
    for e in errors:
        print(e, file=sys.stderr)
    sys.exit(1 if errors else 0)


main()
