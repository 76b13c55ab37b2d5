# heap_lib.sh — sourced by the heap_*.sh tests (after cli_lib.sh).
#
# start_heapfix [ARGS]: start tests/heapfix with its report in $T/hf.out,
# wait for "ready"; sets HF_PID.
# take_gcore PID FILE: in cli_lib.sh.
# check_mallinfo JSON REPORT: heap --json's figures against the mallinfo2
# line of REPORT (see heap_check.py).

HEAPFIX=$PT_BUILD/tests/heapfix
HEAP_CHECK=$(dirname "${BASH_SOURCE[0]}")/heap_check.py

start_heapfix() {
    [ -x "$HEAPFIX" ] || { echo "SKIP: $HEAPFIX not built" >&2; exit 77; }
    # in $T with core files on: heap_fix also reads a kernel core
    (cd "$T" && ulimit -c unlimited 2>/dev/null; exec "$HEAPFIX" "$@" >"$T/hf.out") &
    HF_PID=$!
    track_pid "$HF_PID"
    wait_ready "$HF_PID" heapfix 400 grep -qs '^ready$' "$T/hf.out"
}

check_mallinfo() {
    /usr/bin/python3 "$HEAP_CHECK" mallinfo "$1" "$2" || fail "$3: heap's figures differ from mallinfo2 (above)"
}
