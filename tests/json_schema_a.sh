#!/usr/bin/env bash
# The JSON of used, vm, sites, snap, lm, ln and mon, run for real in every
# mode that writes JSON, checked against the schema blocks of docs/json.md
# (tests/json_check.py: a missing or extra member, or a value of the wrong
# type, fails): a snapshot built byte by byte (errors, the overflow entry,
# a tag with a control byte), a live notmyfault and a snapshot of it, the
# sites fixture (tagged, with a module table) live and as a snapshot, and a
# process that is not tagged (lm, ln).
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/sites_lib.sh"
need_notmyfault
need_fixture
command -v python3 >/dev/null || { echo "SKIP: python3 not installed" >&2; exit 77; }

# check NAME FILE: FILE follows the schema NAME of docs/json.md.
check() {
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" "$1" "$2" ||
        fail "$1: $2 does not follow docs/json.md: $(head -c 800 "$2")"
}
# run OUT CMD...: CMD exits 0 with its standard output in OUT.
run() {
    local out=$1
    shift
    timeout 30 "$@" >"$out" 2>"$T/err" || fail "$* exited $?: $(cat "$T/err")"
}

# ---- a snapshot built byte by byte -----------------------------------------
gen=$PT_BUILD/tests/test_reader_parse
[ -x "$gen" ] || fail "$gen not built"
syn=$T/sample.ptsnap
"$gen" --write-snapshot "$syn" || fail "cannot write the sample snapshot"
run "$T/u.json" "$POOLTAG" used --json "$syn"
check used "$T/u.json"
run "$T/u3.json" "$POOLTAG" used --json -t 3 -s tag "$syn"
check used "$T/u3.json"
run "$T/u0.json" "$POOLTAG" used --json -i nothing "$syn"
check used "$T/u0.json"
run "$T/v.json" "$POOLTAG" vm --json "$syn"
check vm "$T/v.json"
run "$T/m.json" "$POOLTAG" mon --json -g "$syn"
check mon "$T/m.json"
run "$T/mp.json" "$POOLTAG" mon --json -p paged --sort=tag "$syn"
check mon "$T/mp.json"

# The schema is precise: a member taken away or added fails the check.
python3 - "$T/u.json" "$T/v.json" "$T/bad1.json" "$T/bad2.json" <<'PY' || fail "cannot write the altered documents"
import json, sys
u, v = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
del u["tags"][0]["nonpaged"]["blocks"]
v["errors"][0]["addr"] = 0
json.dump(u, open(sys.argv[3], "w")); json.dump(v, open(sys.argv[4], "w"))
PY
for x in "used bad1" "vm bad2"; do
    set -- $x
    python3 "$PT_SRC/tests/json_check.py" "$PT_SRC/docs/json.md" "$1" "$T/$2.json" 2>/dev/null &&
        fail "json_check accepted $2.json as $1"
done

# ---- a live notmyfault, and its snapshot -----------------------------------
start_nmf --leak paged --rate 256K
nmf=$NMF_PID
wait_tagged "$nmf" Leak
run "$T/lu.json" "$POOLTAG" used --json "$nmf"
check used "$T/lu.json"
run "$T/lv.json" "$POOLTAG" vm --json "$nmf"
check vm "$T/lv.json"
run "$T/lm.json" "$POOLTAG" mon --json "$nmf"
check mon "$T/lm.json"
# -n FILE with --json: the sample file.
timeout 30 "$POOLTAG" mon --json -n "$T/sample.json" "$nmf" || fail "mon --json -n FILE exited $?"
check mon "$T/sample.json"
run "$T/s.json" "$POOLTAG" snap --json -o "$T/nmf.ptsnap" "$nmf"
check snap "$T/s.json"
run "$T/su.json" "$POOLTAG" used --json "$T/nmf.ptsnap"
check used "$T/su.json"
run "$T/sv.json" "$POOLTAG" vm --json "$T/nmf.ptsnap"
check vm "$T/sv.json"
run "$T/sm.json" "$POOLTAG" mon --json "$T/nmf.ptsnap"
check mon "$T/sm.json"

# ---- the sites fixture: sites, lm, ln --------------------------------------
start_fixture
fix=$FIX_PID
run "$T/st.json" "$POOLTAG" sites --json "$fix" Site
check sites "$T/st.json"
run "$T/st1.json" "$POOLTAG" sites --json -t 1 -s diff "$fix" Site
check sites "$T/st1.json"
run "$T/st0.json" "$POOLTAG" sites --json "$fix" Zzzz      # no allocations
check sites "$T/st0.json"
run /dev/null "$POOLTAG" snap -o "$T/fix.ptsnap" "$fix"
run "$T/sts.json" "$POOLTAG" sites --json "$T/fix.ptsnap" Site
check sites "$T/sts.json"
run "$T/lml.json" "$POOLTAG" lm --json "$fix"
check lm "$T/lml.json"
run "$T/lms.json" "$POOLTAG" lm --json "$T/fix.ptsnap"
check lm "$T/lms.json"
addr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sites"][0]["address"])' "$T/st.json")
run "$T/lnl.json" "$POOLTAG" ln --json "$fix" "$addr"
check ln "$T/lnl.json"
run "$T/lns.json" "$POOLTAG" ln --json "$T/fix.ptsnap" "$addr"
check ln "$T/lns.json"
timeout 30 "$POOLTAG" ln --json "$fix" 0x10 >"$T/ln0.json"
[ $? = 1 ] || fail "ln --json of an address in no module: exit status not 1"
check ln_none "$T/ln0.json"

# ---- a process that is not tagged ------------------------------------------
sleep 60 &
plain=$!
track_pid "$plain"
run "$T/lmp.json" "$POOLTAG" lm --json "$plain"
check lm "$T/lmp.json"
libc=$(python3 -c 'import json,sys; print([m["start"] for m in json.load(open(sys.argv[1]))["modules"] if m["name"].startswith("libc.so")][0])' "$T/lmp.json")
run "$T/lnp.json" "$POOLTAG" ln --json "$plain" "$libc"
check ln "$T/lnp.json"
echo "json_schema_a: ok"
