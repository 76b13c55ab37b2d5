#!/usr/bin/env bash
# pooltag heap on a real, untagged program: python3 with a few thousand
# malloc'd buffers takes mallinfo2() through ctypes and waits; heap's
# figures equal it (live, stopped), no arena is reported corrupt, and
# --stat's largest group is the buffers' size.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/heap_lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || { echo "SKIP: /usr/bin/python3 not installed" >&2; exit 77; }
"$PY" - >"$T/py.out" <<'PYEOF' &
import ctypes, signal, sys
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
keep = [libc.malloc(5000) for _ in range(3000)]
class MI(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc.mallinfo2.restype = MI
line = "mallinfo2 " + " ".join("%s=%d" for _ in range(9))
names = "arena ordblks smblks hblks hblkhd fsmblks uordblks fordblks keepcost".split()
mi = libc.mallinfo2()
vals = tuple(x for n in names for x in (n, getattr(mi, n)))
sys.stdout.write(line % vals + "\nready\n")
sys.stdout.flush()
signal.pause()
PYEOF
P=$!
track_pid "$P"
for _ in $(seq 200); do grep -q '^ready$' "$T/py.out" 2>/dev/null && break; sleep 0.05; done
grep -q '^ready$' "$T/py.out" || fail "python3 never became ready"
"$POOLTAG" heap --json "$P" >"$T/s.json" 2>"$T/err" || fail "heap python3: $(cat "$T/err")"
check_mallinfo "$T/s.json" "$T/py.out" python3
"$POOLTAG" heap --stat --json "$P" >"$T/st.json" 2>"$T/err" || fail "heap --stat python3: $(cat "$T/err")"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); g=d["groups"][0]; sys.exit(not (g["usable_size"] == 5000 and g["count"] >= 3000))' "$T/st.json" ||
    fail "--stat: the 3000 buffers are not the largest group: $(head -c 600 "$T/st.json")"
echo PASS
