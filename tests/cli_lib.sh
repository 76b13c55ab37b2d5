# cli_lib.sh — sourced by the cli_*.sh and test_reader_*.sh tests.
#
# Environment (set by tests/CMakeLists.txt): POOLTAG, NOTMYFAULT, PT_BUILD,
# PT_SRC, POOLTAG_DB.  Every process a test starts is recorded with
# track_pid and killed by PID when the test ends, however it ends.

set -u
: "${POOLTAG:?POOLTAG not set}"
: "${PT_BUILD:?PT_BUILD not set}"
NOTMYFAULT=${NOTMYFAULT:-$PT_BUILD/demo/notmyfault}
export POOLTAG_DB=${POOLTAG_DB:-$PT_SRC/data/pooltag.txt}

T=$(mktemp -d /tmp/pt_cli_XXXXXX)
chmod 755 "$T"
PIDS=()

track_pid() { PIDS+=("$1"); }

cleanup() {
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

need_notmyfault() {
    if [ ! -x "$NOTMYFAULT" ]; then
        echo "SKIP: $NOTMYFAULT not built" >&2
        exit 77
    fi
}

# wait_tagged PID [TAG]: until PID maps its segment (and TAG has counts).
wait_tagged() {
    local pid=$1 tag=${2:-}
    for _ in $(seq 100); do
        if grep -q 'memfd:pooltag' "/proc/$pid/maps" 2>/dev/null; then
            if [ -z "$tag" ] || "$POOLTAG" used -i "$tag" "$pid" 2>/dev/null |
                grep -q "^ $tag "; then
                return 0
            fi
        fi
        kill -0 "$pid" 2>/dev/null || fail "process $pid died while starting"
        sleep 0.1
    done
    fail "process $pid never showed a pooltag segment${tag:+ with tag $tag}"
}

# start_nmf ARGS...: start notmyfault in the background, sets NMF_PID.
# NMF_ENV="VAR=value ..." adds environment (e.g. pool maxima).
start_nmf() {
    # shellcheck disable=SC2086
    env ${NMF_ENV:-} "$NOTMYFAULT" --quiet "$@" &
    NMF_PID=$!
    track_pid "$NMF_PID"
    wait_tagged "$NMF_PID"
}

# wait_ready PID NAME TRIES CMD...: poll CMD every 0.05 s until it succeeds
# (at most TRIES times); fail when process PID dies first or time runs out.
wait_ready() {
    local pid=$1 name=$2 tries=$3
    shift 3
    for _ in $(seq "$tries"); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || fail "$name died while starting"
        sleep 0.05
    done
    fail "$name never became ready"
}

# take_gcore PID FILE: FILE is a core of PID written by gcore (the process
# runs on; the test is skipped without gdb).
take_gcore() {
    command -v gcore >/dev/null || { echo "SKIP: gcore (gdb) is not installed" >&2; exit 77; }
    timeout 120 gcore -o "$2.tmp" "$1" >"$T/gcore.log" 2>&1 || fail "gcore $1: $(tail -3 "$T/gcore.log")"
    mv "$2.tmp.$1" "$2" || fail "gcore wrote no $2.tmp.$1"
}

# expect_error VERB WANT CMD...: CMD must exit 2, print nothing on stdout,
# and print exactly one line on stderr that starts with "pooltag VERB: " and
# contains WANT.
expect_error() {
    local verb=$1 want=$2
    shift 2
    local out="$T/err.out" errf="$T/err.err" rc=0
    timeout 20 "$@" >"$out" 2>"$errf" || rc=$?
    [ "$rc" = 2 ] || fail "'$*' exited $rc, expected 2 (stderr: $(cat "$errf"))"
    [ ! -s "$out" ] || fail "'$*' printed on stdout: $(head -3 "$out")"
    [ "$(wc -l <"$errf")" = 1 ] || fail "'$*' stderr is not one line: $(cat "$errf")"
    grep -q "^pooltag $verb: " "$errf" || fail "'$*' stderr lacks 'pooltag $verb: ': $(cat "$errf")"
    grep -qF -- "$want" "$errf" || fail "'$*' stderr lacks '$want': $(cat "$errf")"
}

# json_ok FILE: FILE holds one valid JSON document.
json_ok() {
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" ||
        fail "invalid JSON in $1: $(head -c 300 "$1")"
}

# first_row FILE: tag of the first table row of `pooltag used` output.
first_row() {
    awk '/^ Tag /{getline; getline; print $1; exit}' "$1"
}
