#!/usr/bin/env bash
# `pooltag hit PID TAG` on a live python3 (issue 11 item 5, real programs):
# Debian's /usr/bin/python3 (3.11) runs a script under the preload that
# keeps allocating bytes and lists larger than pymalloc's 512-byte limit
# (so they reach malloc from the interpreter's own module) until a stop
# file appears (60 s at most: it stops by itself).  The tag of the
# interpreter's module (the preload's module tagging, from `pooltag used
# PID`) is switched on with a ring of 4,096 records (the newest are
# enough; symbolizing all 65,536 takes long on a busy machine);
# `pooltag hit --show PID --json` must then list
# allocations and frees of that tag only, the allocating frame in the
# interpreter's module, stacks through CPython's own functions: the object
# constructors (PyBytes_*, PyList_*, _PyObject_*, ...) and the interpreter
# loop (_PyEval_EvalFrameDefault).
# shellcheck source=tests/real_trace_lib.sh
. "$(dirname "$0")/real_trace_lib.sh"
need_preload
PYT=/usr/bin/python3
need_cmd "$PYT"
need_trace

cat >"$T/churn.py" <<'EOF'
import os, sys, time
stop, ready = sys.argv[1], sys.argv[2]
keep = []
deadline = time.monotonic() + 60
n = 0
while time.monotonic() < deadline and not os.path.exists(stop):
    for i in range(200):
        keep.append(bytes(1000 + i))
        keep.append([i] * 300)
    if len(keep) > 4000:
        del keep[:2000]
    n += 1
    if n == 5:
        open(ready, "w").close()
    time.sleep(0.005)
EOF
start_bg pt py "$PYT" "$T/churn.py" "$T/stop" "$T/ready"
pid=$BG_PID
for ((i = 0; i < 100; i++)); do
    [ -e "$T/ready" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -e "$T/ready" ]; then
    bad "python3 under the preload did not start its loop: $(tail -c 300 "$T/py.err")"
    finish
fi
ok "python3 $pid runs the allocation loop"

timeout 30 "$POOLTAG" used "$pid" >"$T/used.txt" 2>"$T/used.err" ||
    { bad "pooltag used $pid: $(head -c 300 "$T/used.err")"; finish; }
tag=$(module_tag "$T/used.txt" '/python3(\.[0-9]+)?$')
if [ -z "$tag" ]; then
    bad "pooltag used shows no automatic tag of the python3 module"
    cat "$T/used.txt"
    finish
fi
ok "the interpreter's module has tag '$tag'"

rc=0
timeout 30 "$POOLTAG" hit "$pid" "$tag" --ring 4096 >"$T/hit.out" 2>"$T/hit.err" || rc=$?
if [ "$rc" = 0 ]; then
    ok "pooltag hit $pid '$tag': $(head -2 "$T/hit.out" | tr '\n' ' ')"
else
    bad "pooltag hit $pid '$tag' exited $rc: $(head -c 300 "$T/hit.err")"
    finish
fi
sleep 1
rc=0
timeout 120 "$POOLTAG" hit --show "$pid" --json >"$T/show.json" 2>"$T/show.err" || rc=$?
touch "$T/stop"
if [ "$rc" != 0 ]; then
    bad "pooltag hit --show $pid --json exited $rc: $(head -c 300 "$T/show.err")"
    finish
fi
stacks_tsv "$T/show.json" >"$T/show.tsv" || { bad "hit --show --json: not JSON"; finish; }

na=$(awk -F'\t' '$1 ~ /^records\./ && $3 == "alloc"' "$T/show.tsv" | wc -l)
nf=$(awk -F'\t' '$1 ~ /^records\./ && $3 == "free"' "$T/show.tsv" | wc -l)
if [ "$na" -ge 1000 ] && [ "$nf" -ge 1000 ]; then
    ok "hit ring (4,096 records): $na allocations and $nf frees of '$tag'"
else
    bad "hit ring: $na allocations and $nf frees (want >= 1000 of each)"
fi
others=$(awk -F'\t' -v t="$tag" '$1 ~ /^records\./ && $2 != t { print $2 }' "$T/show.tsv" | sort -u | head -5 | tr '\n' ' ')
if [ -z "$others" ]; then
    ok "every record is of tag '$tag'"
else
    bad "records of other tags than '$tag': $others"
fi
mod=$(basename "$(readlink -f "$PYT")")
# CPython's allocators are static functions reached through function
# pointers and tail calls (PyObject_Malloc jumps to _PyObject_Malloc,
# which jumps to PyMem_RawMalloc's ...): the frames nearest malloc have no
# exported name.  What must show: the allocating frame is in the
# interpreter's module, the stacks go through the object constructors and
# through the interpreter loop.
first=$(awk -F'\t' -v m="$mod" '$1 ~ /^records\./ && $3 == "alloc" { n++; if (index($6, m "!") == 1) k++ } END { print k + 0 "/" n + 0 }' "$T/show.tsv")
ctor=$(awk -F'\t' -v m="$mod" '$1 ~ /^records\./ && $3 == "alloc" && index($6, m "!PyBytes_") + index($6, m "!_PyBytes_") + index($6, m "!PyList_") + index($6, m "!_PyList_") + index($6, m "!_PyObject_") + index($6, m "!PyObject_") > 0' "$T/show.tsv" | wc -l)
loop=$(awk -F'\t' -v m="$mod" '$1 ~ /^records\./ && index($6, m "!_PyEval_EvalFrameDefault") > 0' "$T/show.tsv" | wc -l)
if [ "${first%/*}" = "${first#*/}" ] && [ "${first#*/}" -gt 0 ]; then
    ok "every allocation's first frame is in $mod ($first)"
else
    bad "allocations whose first frame is in $mod: $first (want all)"
fi
if [ "$ctor" -ge 100 ] && [ "$loop" -ge 100 ]; then
    ok "stacks through CPython's functions: $ctor allocations through its object constructors (PyBytes_*, PyList_*, _PyObject_* ...), $loop records through _PyEval_EvalFrameDefault"
else
    bad "stacks through CPython's functions: $ctor allocations through PyBytes_/PyList_/_PyObject_ (want >= 100), $loop records through _PyEval_EvalFrameDefault (want >= 100)"
    awk -F'\t' '$1 ~ /^records\./ && $3 == "alloc" { print "     " $6; if (++k == 3) exit }' "$T/show.tsv"
fi
ex=$(awk -F'\t' -v m="$mod" '$1 ~ /^records\./ && $3 == "alloc" && index($6, m "!_PyObject_") && index($6, m "!_PyEval_EvalFrameDefault") { print $6; exit }' "$T/show.tsv")
note "an allocation's stack: ${ex//|/ < }"

if wait_exit "$pid" 20; then
    if [ "$WAIT_RC" = 0 ]; then
        ok "python3 stopped by itself, status 0"
    else
        bad "python3 exited with status $WAIT_RC: $(tail -c 300 "$T/py.err")"
    fi
else
    bad "python3 still running 20 s after the stop file"
fi
finish
