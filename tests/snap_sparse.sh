#!/usr/bin/env bash
# pooltag snap writes the stack table, the rings and the tracked blocks
# too (the whole extent the header lays out), and leaves pages of zeros as
# holes: the file reads back byte for byte the same (same format, same
# checksum), takes fewer blocks than its length, and reads as the live
# process did.  A snapshot written before (no holes, no trace regions)
# still reads.
. "$(dirname "$0")/hv_lib.sh"
start_hv
"$POOLTAG" snap -o "$T/s.ptsnap" "$HV_PID" >"$T/out" || fail "snap exit $?"
size=$(stat -c %s "$T/s.ptsnap")
alloc=$(( $(stat -c %b "$T/s.ptsnap") * $(stat -c %B "$T/s.ptsnap") ))
[ "$alloc" -lt "$size" ] || fail "snapshot not sparse: $alloc bytes allocated for $size"
# The segment image inside reaches the end of the last region (the leak
# reports, 64 records of 64 bytes at header.leaks_off).
python3 - "$T/s.ptsnap" <<'PY' || fail "the snapshot does not hold the trace regions"
import struct, sys
b = open(sys.argv[1], "rb").read()
seg_off, seg_len = struct.unpack_from("<QQ", b, 104)
leaks_off = struct.unpack_from("<Q", b, seg_off + 576)[0]
assert leaks_off and seg_len >= leaks_off + 64 * 64, (seg_len, leaks_off)
PY
"$POOLTAG" hit --show "$HV_PID" | sed 1d >"$T/live"
"$POOLTAG" hit --show "$T/s.ptsnap" | sed 1d >"$T/file"
diff -u "$T/live" "$T/file" || fail "the snapshot reads differently from the live process"
"$POOLTAG" verify "$T/s.ptsnap" --address 0x20010 | sed 1d >"$T/vf"
"$POOLTAG" verify "$HV_PID" --address 0x20010 | sed 1d >"$T/vl"
diff -u "$T/vl" "$T/vf" || fail "verify --address differs between snapshot and live"
# A copy without holes is the same file.
cat "$T/s.ptsnap" >"$T/dense.ptsnap"
cmp "$T/s.ptsnap" "$T/dense.ptsnap" || fail "copy differs"
"$POOLTAG" used "$T/dense.ptsnap" >/dev/null || fail "dense copy does not read"
# An old snapshot (no trace regions) still reads.
"$PT_BUILD/tests/test_reader_parse" --write-snapshot "$T/old.ptsnap" || fail "no old snapshot"
"$POOLTAG" used "$T/old.ptsnap" >/dev/null || fail "old snapshot does not read"
echo "snap sparse tests passed"
