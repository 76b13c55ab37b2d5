#!/usr/bin/env bash
# cli_bare_image — a bare segment image has no checksum (issue 9, low item;
# docs/snapshot-format.md): a report on one says so on its first line, while
# the same bit flip inside a snapshot is caught by the snapshot's checksum.
. "$PT_SRC/tests/cli_lib.sh"
need_notmyfault

start_nmf --leak paged --rate 64K --duration 60
wait_tagged "$NMF_PID" Leak
"$POOLTAG" snap -o "$T/s.ptsnap" "$NMF_PID" >/dev/null || fail "snap"
tail -c +129 "$T/s.ptsnap" >"$T/bare.seg"     # the 128-byte header off
head -c 8 "$T/bare.seg" | cmp -s - <(printf 'POOLTAG\0') || fail "not a bare image"

warn="bare: no checksum, damage is not detected"
"$POOLTAG" used "$T/bare.seg" >"$T/u" || fail "used on a bare image"
head -1 "$T/u" | grep -qF "segment image $T/bare.seg of process $NMF_PID (notmyfault), $warn" ||
    fail "used does not say the bare image is unchecked: $(head -1 "$T/u")"
"$POOLTAG" vm "$T/bare.seg" >"$T/v" || fail "vm on a bare image"
head -1 "$T/v" | grep -qF "$warn" || fail "vm: $(head -1 "$T/v")"
"$POOLTAG" used "$T/s.ptsnap" | grep -qF "no checksum" && fail "a snapshot said it had no checksum"

# The last byte of the segment flipped: the snapshot's checksum sees it.
size=$(stat -c %s "$T/s.ptsnap")
cp "$T/s.ptsnap" "$T/flip.ptsnap"
last=$(od -An -tu1 -j $((size - 1)) -N1 "$T/flip.ptsnap" | tr -d ' ')
printf "$(printf '\\%03o' $((last ^ 1)))" |
    dd of="$T/flip.ptsnap" bs=1 seek=$((size - 1)) conv=notrunc status=none
expect_error used "checksum mismatch" "$POOLTAG" used "$T/flip.ptsnap"
echo "cli_bare_image: ok"
