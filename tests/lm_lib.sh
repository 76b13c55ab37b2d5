# lm_lib.sh — sourced by the lm_*.sh and imports_*.sh tests (after
# cli_lib.sh): the issue 5 fixtures in $PT_FIXTURES.
#
# start_host [WRAP...]: start fx_host with both plugins (under WRAP, e.g.
# "$POOLTAG" run --, if given), wait until it is ready, set HOST_PID.

: "${PT_FIXTURES:?PT_FIXTURES not set}"
F=$PT_FIXTURES
HOST=$F/fx_host
PLUGINS=("$F/libfx_plugin_good.so" "$F/libfx_plugin_leaky.so")

need_fixtures() {
    local x
    for x in "$HOST" "$F/libfx_tagtwo.so" "$F/libfx_seapi.so" "${PLUGINS[@]}"; do
        [ -e "$x" ] || { echo "SKIP: $x not built" >&2; exit 77; }
    done
}

start_host() {
    local ready=$T/ready.$RANDOM
    "$@" "$HOST" "$ready" 50 "${PLUGINS[@]}" &
    HOST_PID=$!
    track_pid "$HOST_PID"
    for _ in $(seq 300); do
        if [ -s "$ready" ]; then
            # Under `pooltag run` the ready file holds fx_host's PID, the
            # same as $! (run execs the program).
            HOST_PID=$(cat "$ready")
            return 0
        fi
        kill -0 "$HOST_PID" 2>/dev/null || fail "fx_host died while starting"
        sleep 0.05
    done
    fail "fx_host never became ready"
}

# build_id FILE: the GNU build-id readelf -n shows.
build_id() {
    readelf -n "$1" | awk '/Build ID:/{print $3; exit}'
}

# jget FILE PYEXPR: evaluate PYEXPR with d = the JSON document in FILE.
jget() {
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
