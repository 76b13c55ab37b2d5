# shellcheck shell=bash disable=SC2034
# run_lib.sh — sourced by the run_*.sh tests (`pooltag run`).
#
# Builds on cli_lib.sh (POOLTAG, PT_BUILD, $T, track_pid, fail, cleanup by
# PID at exit).  PRELOAD is the build tree's libpooltag-preload.so; tests
# that start tagged programs call need_preload, which skips (exit 77) while
# it is not built.  PY is Debian's python3, never a pyenv shim.
. "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

PRELOAD=$PT_BUILD/src/preload/libpooltag-preload.so
PY=/usr/bin/python3
unset POOLTAG_PRELOAD PT_BACKEND PT_TAGS PT_WRAPPERS PT_FOLLOW_CHILDREN \
    PT_ON_ERROR PT_PAGED_MAX PT_NONPAGED_MAX PT_VERBOSE PT_PRELOAD_ACTIVE \
    LD_PRELOAD

# A sanitizer build of pooltag must tolerate libraries preloaded into it
# (the tests that give run an LD_PRELOAD of its own).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
ASAN_CLI=0
if ldd "$POOLTAG" 2>/dev/null | grep -q libasan; then ASAN_CLI=1; fi

need_preload() {
    if [ ! -f "$PRELOAD" ]; then
        echo "SKIP: $PRELOAD not built" >&2
        exit 77
    fi
    PRELOAD=$(realpath "$PRELOAD")
    # A preload that ld.so cannot load would make every test below fail
    # obscurely: say so once.
    env LD_PRELOAD="$PRELOAD" /bin/true 2>"$T/ld.err" ||
        fail "the preload does not load into /bin/true: $(head -1 "$T/ld.err")"
}

need_python() {
    if [ ! -x "$PY" ]; then
        echo "SKIP: $PY not installed" >&2
        exit 77
    fi
}

# expect_fail RC WANT CMD...: CMD must exit RC, print nothing on stdout and
# exactly one line on stderr, starting "pooltag run: " and containing WANT.
expect_fail() {
    local want_rc=$1 want=$2
    shift 2
    local out="$T/ef.out" errf="$T/ef.err" rc=0
    timeout 20 "$@" >"$out" 2>"$errf" </dev/null || rc=$?
    [ "$rc" = "$want_rc" ] ||
        fail "'$*' exited $rc, expected $want_rc (stderr: $(cat "$errf"))"
    [ ! -s "$out" ] || fail "'$*' printed on stdout: $(head -3 "$out")"
    [ "$(wc -l <"$errf")" = 1 ] ||
        fail "'$*' stderr is not one line: $(cat "$errf")"
    grep -q "^pooltag run: " "$errf" ||
        fail "'$*' stderr lacks 'pooltag run: ': $(cat "$errf")"
    grep -qF -- "$want" "$errf" ||
        fail "'$*' stderr lacks '$want': $(cat "$errf")"
}

# is_tagged PID: PID maps a pooltag segment.
is_tagged() { grep -q 'memfd:pooltag' "/proc/$1/maps" 2>/dev/null; }

# wait_file FILE: until FILE is non-empty (10 s at most).
wait_file() {
    for _ in $(seq 100); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    fail "$1 never appeared"
}
