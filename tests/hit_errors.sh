#!/usr/bin/env bash
# Bad input to pooltag hit: each a one-line "pooltag hit: ..." error, exit
# status 2, nothing on stdout, and (for a live target) nothing changed.
. "$(dirname "$0")/hv_lib.sh"
start_hv
gen() { "$POOLTAG" hit --show "$HV_PID" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["generation"])'; }
g0=$(gen)
expect_error hit "'Nope' matches no tag of process $HV_PID (hv_segment): nothing changed" "$POOLTAG" hit "$HV_PID" Leak Nope
expect_error hit "'Z*' matches no tag" "$POOLTAG" hit "$HV_PID" 'Z*'
expect_error hit "--ring 65: the hit ring has 64 records (reserved at start: raise PT_HIT_RING)" "$POOLTAG" hit "$HV_PID" Leak --ring 65
expect_error hit "--ring wants a number of records >= 1, not '0'" "$POOLTAG" hit "$HV_PID" Leak --ring 0
expect_error hit "at most 8 tag patterns (9 given)" "$POOLTAG" hit "$HV_PID" a b c d e f g h i
expect_error hit "bad tag 'Toolong': a tag is 1 to 4 characters" "$POOLTAG" hit "$HV_PID" Toolong
expect_error hit "missing TAG after PID" "$POOLTAG" hit "$HV_PID"
expect_error hit "--off takes no TAG" "$POOLTAG" hit "$HV_PID" --off Leak
expect_error hit "missing PID and TAG" "$POOLTAG" hit
expect_error hit "'file.seg' is not a PID" "$POOLTAG" hit file.seg Leak
expect_error hit "--follow, --tag, --address and --json go with --show" "$POOLTAG" hit "$HV_PID" Leak --json
expect_error hit "--ring, --trap and --off change a process" "$POOLTAG" hit --show "$HV_PID" --off
expect_error hit "--address wants an address" "$POOLTAG" hit --show "$HV_PID" --address zz
[ "$(gen)" = "$g0" ] || fail "a refused change moved the generation: $g0 -> $(gen)"
# Sources that are not there or not tagged.
expect_error hit "no process with PID 999999999" "$POOLTAG" hit 999999999 Leak
expect_error hit "is not tagged" "$POOLTAG" hit $$ Leak
expect_error hit "is not tagged" "$POOLTAG" hit --show $$
expect_error hit "no such file" "$POOLTAG" hit --show "$T/none.ptsnap"
"$HV" --write "$T/seg"
expect_error hit "--follow reads a running process" "$POOLTAG" hit --show "$T/seg" --follow
# A snapshot cannot be changed.
expect_error hit "is not a PID" "$POOLTAG" hit "$T/seg" Leak
# Damaged segments: truncated in the ring, bad stack slot, bad ring
# header, bad record.
"$HV" --write "$T/trunc" trunc
expect_error hit "truncated segment image: the " "$POOLTAG" hit --show "$T/trunc"
"$HV" --write "$T/badring" badring
expect_error hit "corrupt segment: hit ring of 64 records, 65 in use" "$POOLTAG" hit --show "$T/badring"
"$HV" --write "$T/badop" badop
expect_error hit "corrupt hit ring: record" "$POOLTAG" hit --show "$T/badop"
"$HV" --write "$T/badslot" badslot
"$POOLTAG" hit --show "$T/badslot" >"$T/bs" 2>&1 || fail "bad stack slot: exit $?"
grep -q 'stack unreadable: corrupt stack table: stack 1 says 100 frames' "$T/bs" || fail "bad slot not said: $(head "$T/bs")"
# A segment without the regions (a runtime before issue 11): the reader's
# own sample snapshot.
"$PT_BUILD/tests/test_reader_parse" --write-snapshot "$T/old.ptsnap" || fail "no old snapshot"
expect_error hit "has no hit ring: its pooltag runtime predates hit tags" "$POOLTAG" hit --show "$T/old.ptsnap"
# The verbs are listed where verbs are listed.
"$POOLTAG" --help | grep -qE '^  hit ' || fail "hit missing from pooltag --help"
"$POOLTAG" --help | grep -qE '^  verify ' || fail "verify missing from pooltag --help"
"$POOLTAG" 2>"$T/noverb.err" && fail "no verb: exit 0"
grep -q '^pooltag: missing VERB: one of .*, sites, hit, verify, .*help' "$T/noverb.err" ||
    fail "missing-verb message: $(cat "$T/noverb.err")"
"$POOLTAG" help hit | grep -q '^Usage: pooltag hit PID TAG' || fail "help hit"
"$POOLTAG" help verify | grep -q '^Usage: pooltag verify PID --module' || fail "help verify"
echo "hit error tests passed"
