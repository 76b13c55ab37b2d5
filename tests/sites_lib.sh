# sites_lib.sh — sourced by the sites_*.sh tests (after cli_lib.sh).
#
# start_fixture [ENV=VALUE ...] -- [ARGS...]: start tests/sites_fixture in
# the background, wait until it has allocated (its ready file), set FIX_PID.
# FIX_WRAP, if set, is a command prefix (e.g. "$POOLTAG run --").

FIXTURE=$PT_BUILD/tests/sites_fixture
SRC_C=$PT_SRC/tests/sites_fixture.c

need_fixture() {
    [ -x "$FIXTURE" ] || { echo "SKIP: $FIXTURE not built" >&2; exit 77; }
}

start_fixture() {
    local envs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    local ready=$T/ready.$RANDOM
    # shellcheck disable=SC2086
    env "${envs[@]}" ${FIX_WRAP:-} "$FIXTURE" "$ready" "$@" &
    FIX_PID=$!
    track_pid "$FIX_PID"
    for _ in $(seq 200); do
        [ -s "$ready" ] && return 0
        kill -0 "$FIX_PID" 2>/dev/null || fail "sites_fixture died while starting"
        sleep 0.05
    done
    fail "sites_fixture never became ready"
}

stop_fixture() {
    kill "$FIX_PID" 2>/dev/null
    wait "$FIX_PID" 2>/dev/null
}

# line_of TEXT: the line of sites_fixture.c that holds TEXT (the pt_alloc
# call of a site function).
line_of() {
    grep -nF -- "$1" "$SRC_C" | head -1 | cut -d: -f1
}

# row FILE SYMBOL: the table row of `pooltag sites` output whose site is
# sites_fixture!SYMBOL+0x...
row() {
    grep -E "!$2\+0x[0-9a-f]+( |$)" "$1" | head -1
}

# check_row FILE SYMBOL ALLOCS FREES DIFF BYTES POOL LINE: the row of
# SYMBOL has these counts, is named sites_fixture!SYMBOL+0x.. and points to
# sites_fixture.c:LINE.
check_row() {
    local f=$1 sym=$2 r a fr d b p addr site loc
    r=$(row "$f" "$sym")
    [ -n "$r" ] || fail "no row for $sym in: $(cat "$f")"
    read -r a fr d b p addr site loc _ <<<"$r"
    [ "$a $fr $d $b $p" = "$3 $4 $5 $6 $7" ] ||
        fail "$sym: counts '$a $fr $d $b $p', expected '$3 $4 $5 $6 $7': $r"
    [[ "$site" == "sites_fixture!$sym+0x"* ]] || fail "$sym: site '$site': $r"
    [[ "$addr" =~ ^0x[0-9a-f]+$ ]] || fail "$sym: address '$addr': $r"
    [[ "$loc" == */sites_fixture.c:"$8" ]] ||
        fail "$sym: file:line '$loc', expected sites_fixture.c:$8: $r"
}

# totals_match SITES_JSON USED_JSON TAG: the sites' TOTAL equals used's row
# for TAG, pool by pool (outstanding blocks and bytes in use).
totals_match() {
    python3 - "$1" "$2" "$3" <<'PY' || fail "TOTAL of sites differs from pooltag used for $3"
import json, sys
s = json.load(open(sys.argv[1]))
u = json.load(open(sys.argv[2]))
row = [t for t in u["tags"] if t["tag"].rstrip() == sys.argv[3].rstrip()]
assert len(row) == 1, "tag not in used: %r" % [t["tag"] for t in u["tags"]]
row = row[0]
for pool in ("nonpaged", "paged"):
    for k in ("allocs", "frees", "blocks", "bytes", "bytes_alloc", "bytes_freed"):
        a, b = s["total"][pool][k], row[pool][k]
        if a != b:
            sys.exit("%s %s: sites %d, used %d" % (pool, k, a, b))
# and the rows add up to the TOTAL
for k in ("allocs", "frees", "blocks", "bytes"):
    if s["sites_shown"] == s["sites_total"]:
        tot = sum(x[k] for x in s["sites"])
        if tot != s["total"][k]:
            sys.exit("rows sum %s %d != total %d" % (k, tot, s["total"][k]))
PY
}

# first_site FILE: the first table row of `pooltag sites` output.
first_site() {
    awk '/^ +Allocs +Frees +Diff +Bytes/{getline; getline; print; exit}' "$1"
}

# table_part FILE: the header, rows and TOTAL lines (not the first line,
# which names the source, nor the notes).
table_part() {
    sed -n '/^ *Allocs  *Frees/,/TOTAL by pool/p' "$1"
}
