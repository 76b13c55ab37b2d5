# core_lib.sh — sourced by the core_*.sh tests (after cli_lib.sh).
#
# start_fx [LIB]: start core_fx (tests/core_fx.c) in $T, wait until it is
# ready; sets FX_PID and FX_CHG (chg_value's address, 0x0 without LIB).
# take_gcore PID FILE: in cli_lib.sh.

CORE_FX=$PT_BUILD/tests/core_fx
TEST_PIMG=$PT_BUILD/tests/test_pimg
[ -x "$CORE_FX" ] || { echo "SKIP: $CORE_FX not built" >&2; exit 77; }

start_fx() {
    local ready=$T/ready.$RANDOM
    # FX_ULIMIT=1: with core files on (ulimit -c unlimited), in $T.
    (cd "$T" && { [ -z "${FX_ULIMIT:-}" ] || ulimit -c unlimited; } &&
        exec "$CORE_FX" "$ready" "$@") &
    FX_PID=$!
    track_pid "$FX_PID"
    wait_ready "$FX_PID" core_fx 200 test -s "$ready"
    read -r _ FX_CHG <"$ready"
}

# same_report NAME LIVE CORE: the two outputs agree but for their first
# line (which names the source: "process N ..., live" / "core FILE ...").
same_report() {
    diff <(tail -n +2 "$2") <(tail -n +2 "$3") >"$T/diff" ||
        fail "$1: the core's report differs from the live one: $(head -20 "$T/diff")"
}
