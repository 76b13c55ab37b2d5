# hv_lib.sh — sourced by the hit_*.sh and verify_*.sh tests: the fixture
# segment of hv_segment.c (its contents are listed there) as a file or as
# a live process.
. "$(dirname "$0")/cli_lib.sh"
HV=$PT_BUILD/tests/hv_segment
[ -x "$HV" ] || fail "$HV not built"
# The source lines the fixture's stacks name (frame 0 of stacks 1 and 2,
# frame 1 of stack 1), found by their text so that edits to the fixture
# do not break the tests.
HV_SRC=$PT_SRC/tests/hv_segment.c
LINE_LEAK=$(grep -n 'CAPTURE(stack1, depth1, ' "$HV_SRC" | cut -d: -f1)
LINE_OUTER=$(grep -n '^    fixture_leak_step();' "$HV_SRC" | cut -d: -f1)
LINE_CACHE=$(grep -n 'CAPTURE(stack2, depth2, ' "$HV_SRC" | cut -d: -f1)
[ -n "$LINE_LEAK" ] && [ -n "$LINE_OUTER" ] && [ -n "$LINE_CACHE" ] || fail "fixture lines not found"

# start_hv ARGS...: start hv_segment --live ARGS in the background; sets
# HV_PID and HV_OUT (its stdout: "ready", then one line per apply).
start_hv() {
    HV_OUT=$T/hv.$RANDOM.out
    "$HV" --live "$@" >"$HV_OUT" 2>&1 &
    HV_PID=$!
    track_pid "$HV_PID"
    for _ in $(seq 100); do
        grep -q '^ready$' "$HV_OUT" 2>/dev/null && return 0
        kill -0 "$HV_PID" 2>/dev/null || fail "hv_segment died: $(cat "$HV_OUT")"
        sleep 0.05
    done
    fail "hv_segment never became ready"
}

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s).
wait_for() {
    for _ in $(seq 200); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "no line '$2' in $1: $(tail -5 "$1")"
}
