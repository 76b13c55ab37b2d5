# shellcheck shell=bash
# demo_lib.sh — helpers sourced by the tests/demo_*.sh scripts (not a test).
# Environment (set by tests/CMakeLists.txt): NOTMYFAULT, POOLTAG, PT_BUILD.
set -u
: "${NOTMYFAULT:?NOTMYFAULT is not set}"
fail=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
finish() { exit "$fail"; }

# row FILE TAG: the summary row of TAG printed by notmyfault at exit:
# "Tag Pool Allocs Frees Diff Bytes Peak Failures".
row() { awk -v t="$2" '$1 == t && NF == 8' "$1"; }

# field FILE TAG N: field N (1-based) of that row.
field() { row "$1" "$2" | awk -v n="$3" '{ print $n }'; }

# A tag that is not leaked: used (allocs > 0), everything freed at exit.
check_steady() { # file tag pool
    local r; r=$(row "$1" "$2")
    if [ -z "$r" ]; then bad "$2: no summary row"; return; fi
    read -r _ pool allocs frees diff bytes _ failures <<<"$r"
    if [ "$pool" = "$3" ] && [ "$allocs" -gt 0 ] && [ "$allocs" = "$frees" ] &&
       [ "$diff" = 0 ] && [ "$bytes" = 0 ] && [ "$failures" = 0 ]; then
        ok "$2 all freed at exit, allocs = frees ($r)"
    else
        bad "$2: want pool $3, allocs = frees > 0, Bytes 0: '$r'"
    fi
}
