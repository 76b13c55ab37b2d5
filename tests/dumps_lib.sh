# dumps_lib.sh — sourced by the address_*.sh and search_*.sh tests (after
# cli_lib.sh): the useheap fixture ($PT_FIXTURES/useheap_svc, built by
# tests/address.cmake).
#
# start_useheap MB [WRAP...]: start useheap_svc growing its blob heap to MB
# MiB (under WRAP, e.g. "$POOLTAG" run --, if given), wait until it is
# ready; sets UH_PID and UH_BLOB (the address libuseheap.so!blob_heap
# holds, as the fixture printed it).
# check_json NAME FILE: FILE follows the schema block NAME of docs/json.md.
# jget FILE PYEXPR: PYEXPR evaluated with d = the JSON document in FILE.

: "${PT_FIXTURES:?PT_FIXTURES not set}"
UH=$PT_FIXTURES/useheap_svc

need_useheap() {
    [ -x "$UH" ] && [ -e "$PT_FIXTURES/libuseheap.so" ] ||
        { echo "SKIP: $UH not built" >&2; exit 77; }
    command -v python3 >/dev/null || { echo "SKIP: python3 not installed" >&2; exit 77; }
}

start_useheap() {
    local mb=$1
    shift
    local ready=$T/ready.$RANDOM
    "$@" "$UH" "$ready" "$mb" &
    UH_PID=$!
    track_pid "$UH_PID"
    wait_ready "$UH_PID" useheap_svc 600 test -s "$ready"
    read -r UH_PID UH_BLOB <"$ready"
}

check_json() {
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" "$1" "$2" ||
        fail "$1: $2 does not follow docs/json.md: $(head -c 800 "$2")"
}

jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# need_gcore: skip without gdb's gcore.
need_gcore() {
    command -v gcore >/dev/null || { echo "SKIP: gcore (gdb) not installed" >&2; exit 77; }
}

# take_kernel_core MB FILE: start useheap_svc (MB), kill it with SIGABRT
# with `ulimit -c unlimited` in a folder of the test, and move the core the
# kernel wrote to FILE; sets KC_BLOB.  Returns 1 (with the reason in
# KC_WHY) when the machine's core_pattern sends cores elsewhere.
take_kernel_core() {
    local pat
    pat=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
    case "$pat" in
    "|"*|/*) KC_WHY="core_pattern is '$pat': cores do not land in the working folder"; return 1 ;;
    esac
    mkdir -p "$T/kc"
    (
        cd "$T/kc" || exit 1
        ulimit -c unlimited
        exec "$UH" "$T/kc.ready" "$1"
    ) &
    local pid=$!
    track_pid "$pid"
    for _ in $(seq 600); do
        [ -s "$T/kc.ready" ] && break
        kill -0 "$pid" 2>/dev/null || fail "useheap_svc died while starting"
        sleep 0.05
    done
    read -r _ KC_BLOB <"$T/kc.ready"
    kill -ABRT "$pid"
    wait "$pid" 2>/dev/null
    local f
    for _ in $(seq 100); do
        f=$(find "$T/kc" -maxdepth 1 -name 'core*' -type f | head -1)
        [ -n "$f" ] && break
        sleep 0.1
    done
    [ -n "$f" ] || { KC_WHY="no core file written (core_pattern '$pat')"; return 1; }
    mv "$f" "$2"
}
