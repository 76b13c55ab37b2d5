# shellcheck shell=bash disable=SC2034
# fault_lib.sh — sourced by the fault_*.sh tests (fault injection, issue 12).
# Builds on run_lib.sh (POOLTAG, PRELOAD, $T, track_pid, fail).  FP is the
# fixture tests/fault_prog.c, PLUG its plugin; fi_run SPEC CMD... runs CMD
# under the preload with PT_FAIL=SPEC (stdout to $T/fi.out, stderr to
# $T/fi.err) and fails the test on an exit status other than 0.
. "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"
need_preload
unset PT_FAIL PT_HIT PT_VERIFY PT_SPECIAL PT_SAMPLE_GUARD
FP=$PT_BUILD/tests/fault_prog
PLUG=$PT_BUILD/tests/libfault_plug.so
FCXX=$PT_BUILD/tests/fault_cxx
[ -x "$FP" ] || fail "$FP not built"

fi_run() {
    local spec=$1 rc=0
    shift
    PT_FAIL=$spec timeout 60 env LD_PRELOAD="$PRELOAD" "$@" >"$T/fi.out" 2>"$T/fi.err" || rc=$?
    [ "$rc" = 0 ] || fail "PT_FAIL='$spec' $*: exit $rc: $(head -c 600 "$T/fi.err")"
}
