# find_lib.sh — sourced by the find_*.sh tests after cli_lib.sh.
: "${PT_FIXTURES:?PT_FIXTURES not set}"

need_fixtures() {
    if [ ! -f "$PT_FIXTURES/libfx_tagtwo.so" ] || [ ! -x "$PT_FIXTURES/fx_host" ]; then
        echo "SKIP: fixtures not built in $PT_FIXTURES" >&2
        exit 77
    fi
}

# run_find RC OUT ERR ARGS...: `pooltag find ARGS` must exit RC.
run_find() {
    local want=$1 out=$2 err=$3 rc=0
    shift 3
    timeout 30 "$POOLTAG" find "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" = "$want" ] || fail "pooltag find $* exited $rc, expected $want (stderr: $(head -3 "$err"))"
}

# hit_lines FILE: the first line of each hit (code/data lines).
hit_lines() {
    grep -E '^(code|data)  ' "$1" || true
}

# has_immediate FILE HEX: the disassembly of FILE uses $HEX as an immediate
# operand (optimised code); without objdump, assume so.
has_immediate() {
    command -v objdump >/dev/null || return 0
    objdump -d "$1" | grep -q "\$$2"
}
