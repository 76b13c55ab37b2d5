#!/usr/bin/env bash
# Bad sources: each a clear one-line message on stderr, nothing on stdout,
# exit status 2, from every report verb.
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault

# A PID that is not running (a process that just exited).
true &
gone=$!
wait "$gone"
for v in used vm; do
    expect_error "$v" "no process with PID $gone" "$POOLTAG" "$v" "$gone"
done
expect_error used "no process with PID 0" "$POOLTAG" used 0
expect_error used "no process with PID 99999999999" "$POOLTAG" used 99999999999

# A process that is not tagged.
sleep 30 &
sp=$!
track_pid "$sp"
for v in used vm; do
    expect_error "$v" "process $sp (sleep) is not tagged: no pooltag segment in /proc/$sp/maps; start it with libpooltag or under \`pooltag run\`" \
        "$POOLTAG" "$v" "$sp"
done

# Files that are not snapshots.
expect_error used "$T/none.ptsnap: no such file" "$POOLTAG" used "$T/none.ptsnap"
expect_error used "$T: is a directory, not a regular file" "$POOLTAG" used "$T"
echo "hello, world" >"$T/text"
expect_error used "not a pooltag snapshot (bad magic)" "$POOLTAG" used "$T/text"
: >"$T/empty"
expect_error vm "empty file" "$POOLTAG" vm "$T/empty"

# A real snapshot, then damaged copies of it.
start_nmf --leak nonpaged --rate 256K
s=$T/good.ptsnap
timeout 20 "$POOLTAG" snap -o "$s" "$NMF_PID" >/dev/null || fail "snap"
"$POOLTAG" used "$s" >"$T/good.txt" || fail "the good snapshot does not read"
size=$(stat -c %s "$s")

for len in 1 7 64 127 128 200 4096 $((size / 2)) $((size - 1)); do
    head -c "$len" "$s" >"$T/cut"
    expect_error used "truncated" "$POOLTAG" used "$T/cut"
done
expect_error vm "truncated snapshot" "$POOLTAG" vm "$T/cut"

python3 - "$s" "$T" <<'PY' || fail "cannot make damaged copies"
import struct, sys, zlib
src, t = sys.argv[1], sys.argv[2]
b = bytearray(open(src, "rb").read())
def put(name, data):
    open(f"{t}/{name}", "wb").write(data)
def fix_crc(d):
    hsize = struct.unpack_from("<I", d, 12)[0]
    seg_off, seg_len = struct.unpack_from("<QQ", d, 104)
    h = bytearray(d[:hsize]); struct.pack_into("<I", h, 120, 0)
    crc = zlib.crc32(bytes(h) + bytes(d[seg_off:seg_off + seg_len]))
    struct.pack_into("<I", d, 120, crc)
    return d
# The documented checksum is zlib's CRC-32: recomputing it gives the same.
assert bytes(fix_crc(bytearray(b))) == bytes(b), "crc32 differs from docs"
d = bytearray(b); d[0] ^= 0x20; put("magic", d)
d = bytearray(b); struct.pack_into("<I", d, 8, 2); put("version", d)
d = bytearray(b); d[len(d) // 2] ^= 0x5a; put("flip", d)
d = bytearray(b) + b"extra"; put("trailing", d)
seg = struct.unpack_from("<Q", b, 104)[0]
d = bytearray(b); struct.pack_into("<I", d, seg + 8, 3); put("segversion", fix_crc(d))
d = bytearray(b); struct.pack_into("<I", d, seg + 8, 1); put("segversion1", fix_crc(d))
d = bytearray(b); d[seg] = ord("X"); put("segmagic", fix_crc(d))
# Offsets out of range inside a snapshot with a valid checksum.
d = bytearray(b); struct.pack_into("<Q", d, seg + 64, 1 << 62); put("segoffset", fix_crc(d))
d = bytearray(b); struct.pack_into("<I", d, seg + 40, 0xffffffff); put("segtags", fix_crc(d))
# The bare segment image: a valid source too.
seg_len = struct.unpack_from("<Q", b, 112)[0]
put("raw.seg", b[seg:seg + seg_len])
PY
expect_error used "not a pooltag snapshot (bad magic)" "$POOLTAG" used "$T/magic"
expect_error used "snapshot version 2 is not supported (this pooltag reads version 1)" "$POOLTAG" used "$T/version"
expect_error vm "snapshot version 2 is not supported" "$POOLTAG" vm "$T/version"
expect_error used "checksum mismatch" "$POOLTAG" used "$T/flip"
expect_error used "trailing data" "$POOLTAG" used "$T/trailing"
expect_error used "segment version 3 is not supported (this pooltag reads version 2)" "$POOLTAG" used "$T/segversion"
expect_error used "segment version 1 (pooltag 0.1) is not supported: this pooltag reads version 2" "$POOLTAG" used "$T/segversion1"
expect_error used "not a pooltag segment (bad magic)" "$POOLTAG" used "$T/segmagic"
expect_error used "corrupt segment" "$POOLTAG" used "$T/segoffset"
expect_error used "corrupt segment: max_tags" "$POOLTAG" used "$T/segtags"

"$POOLTAG" used "$T/raw.seg" >"$T/raw.txt" || fail "a bare segment image does not read"
diff <(sed 1d "$T/good.txt") <(sed 1d "$T/raw.txt") >/dev/null || fail "bare image reads differently"
echo "cli error tests passed"
