#!/usr/bin/env bash
# A thread arena that outgrew its first 64 MiB heap_info region (heapfix
# grow): both regions are walked (the older one up to its fenceposts), the
# figures equal mallinfo2(), and the arena reserves 2 x 64 MiB.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/heap_lib.sh"
start_heapfix grow
"$POOLTAG" heap --json "$HF_PID" >"$T/s.json" 2>"$T/err" || fail "heap: $(cat "$T/err")"
check_mallinfo "$T/s.json" "$T/hf.out" grow
/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=sorted(h["reserved"] for h in d["heaps"] if h["kind"]=="glibc thread arena"); sys.exit(r != [64 << 20, 128 << 20])' "$T/s.json" ||
    fail "thread arenas do not reserve 64 and 128 MiB: $(head -c 800 "$T/s.json")"
echo PASS
