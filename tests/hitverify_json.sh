#!/usr/bin/env bash
# The JSON of pooltag hit and pooltag verify against the schema blocks of
# docs/json.md (tests/json_check.py): the fixture as a file and live
# (hit --show, --follow's JSON Lines, verify with and without --stacks,
# verify --address), and a running notmyfault under the real runtime
# when it records stacks.
. "$(dirname "$0")/hv_lib.sh"
DOC=$PT_SRC/docs/json.md
check() {
    python3 "$PT_SRC/tests/json_check.py" "$DOC" "$1" "$2" ||
        fail "$1 JSON does not follow docs/json.md: $(head -c 400 "$2")"
}
"$HV" --write "$T/seg" --leak || fail "cannot write the fixture"
"$POOLTAG" hit --show "$T/seg" --json >"$T/h.json" || fail "hit exit $?"
check hit "$T/h.json"
"$POOLTAG" hit --show "$T/seg" --json --tag Cach >"$T/h2.json" || fail "hit --tag exit $?"
check hit "$T/h2.json"
rc=0
"$POOLTAG" verify "$T/seg" --json >"$T/v.json" || rc=$?
[ "$rc" = 1 ] || fail "verify with leaks exit $rc"
check verify "$T/v.json"
"$POOLTAG" verify "$T/seg" --json --stacks >"$T/v2.json" || [ $? = 1 ] || fail "verify --stacks failed"
check verify "$T/v2.json"
"$POOLTAG" verify "$T/seg" --json --address 0x20010 >"$T/a.json" || fail "verify --address exit $?"
check verify_address "$T/a.json"
"$POOLTAG" verify "$T/seg" --json --address 0x1 >"$T/a2.json" || fail "verify --address none exit $?"
check verify_address "$T/a2.json"
start_hv
"$POOLTAG" hit --show "$HV_PID" --json --follow >"$T/f.jsonl" &
fpid=$!
track_pid "$fpid"
sleep 0.5
kill -USR1 "$HV_PID"
wait_for "$HV_OUT" '^grew 5'
for _ in $(seq 100); do
    [ "$(wc -l <"$T/f.jsonl")" -ge 20 ] && break
    sleep 0.05
done
kill "$HV_PID"
wait "$fpid" || fail "--follow --json exit $?"
[ "$(wc -l <"$T/f.jsonl")" = 20 ] || fail "--follow --json: $(wc -l <"$T/f.jsonl") lines, expected 15 + 5"
check 'hit_record[]' "$T/f.jsonl"
if [ -x "$NOTMYFAULT" ]; then
    start_nmf --leak paged --rate 256K
    wait_tagged "$NMF_PID" Leak
    if "$POOLTAG" hit "$NMF_PID" Leak >/dev/null 2>&1 &&
        "$POOLTAG" verify "$NMF_PID" --module notmyfault --on >/dev/null 2>&1; then
        sleep 0.5
        "$POOLTAG" hit --show "$NMF_PID" --json >"$T/nh.json" || fail "nmf hit exit $?"
        check hit "$T/nh.json"
        "$POOLTAG" verify "$NMF_PID" --json --stacks >"$T/nv.json" || fail "nmf verify exit $?"
        check verify "$T/nv.json"
    fi
fi
echo "hit and verify JSON tests passed"
