#!/usr/bin/env bash
# cli_outfiles — every verb that writes a file (snap -o, mon -n, trend
# --html, log -o) goes through one output-file helper (issue 9, items 3 and
# 12 and the messages of the low items):
#   - an existing target that is not a regular file (FIFO, character device,
#     a symbolic link to /dev/null, a directory) is refused with exit 2 and
#     one line, and is left exactly as it was (type, mode, device numbers);
#   - a target that is the same file as an input (directly or through a
#     symbolic link) is refused and the input keeps its checksum;
#   - a regular file is replaced atomically, keeping its mode, and a
#     symbolic link to it stays a link;
#   - a failing write names its reason (EFBIG under `ulimit -f`), leaves no
#     temporary file; `snap -o /proc/version` gives the real reason.
. "$PT_SRC/tests/cli_lib.sh"
need_notmyfault
command -v python3 >/dev/null || { echo "SKIP: python3 needed" >&2; exit 77; }

start_nmf --leak paged --rate 64K --duration 60
P=$NMF_PID
python3 "$PT_SRC/tests/trend_gen.py" "$T/app.db" --interval 10 >/dev/null ||
    fail "trend_gen"
"$POOLTAG" snap -o "$T/in.ptsnap" "$P" >/dev/null || fail "snap"

# The targets that must never be replaced.
mkfifo "$T/fifo"
mkdir "$T/dir"
ln -s /dev/null "$T/devnull-link"
targets=("$T/fifo:is a FIFO" "$T/dir:is a directory"
         "$T/devnull-link:is a character device")
if [ "$(id -u)" = 0 ] && mknod -m 666 "$T/null" c 1 3 2>/dev/null; then
    targets+=("$T/null:is a character device")
else
    echo "note - not root: no device node of our own (the symlink to /dev/null stands in)"
fi
state() { stat -L -c '%F %a %t:%T %i' "$1"; }

for t in "${targets[@]}"; do
    path=${t%%:*} want=${t#*:}
    before=$(state "$path")
    expect_error snap "$want" "$POOLTAG" snap -o "$path" "$P"
    expect_error mon "$want" "$POOLTAG" mon -n "$path" "$P"
    expect_error trend "$want" "$POOLTAG" trend --html "$path" "$T/app.db"
    expect_error log "$want" "$POOLTAG" log -o "$path" --duration 1 "$P"
    [ "$(state "$path")" = "$before" ] ||
        fail "$path changed: '$before' -> '$(state "$path")'"
done
[ -L "$T/devnull-link" ] || fail "the symlink to /dev/null was replaced"
[ "$(stat -c '%F %a' /dev/null)" = "character special file 666" ] ||
    fail "/dev/null itself changed: $(stat -c '%F %a' /dev/null)"
! ls "$T" | grep -q '\.tmp' || fail "temporary files left: $(ls "$T")"

# An output that is an input (item 12), directly and through a link.
sum=$(md5sum <"$T/app.db")
expect_error trend "same file as the input" "$POOLTAG" trend --html "$T/app.db" "$T/app.db"
ln -s app.db "$T/app-link.html"
expect_error trend "same file as the input" "$POOLTAG" trend --html "$T/app-link.html" "$T/app.db"
[ "$(md5sum <"$T/app.db")" = "$sum" ] || fail "trend --html overwrote its input"
"$POOLTAG" trend "$T/app.db" >/dev/null || fail "the log no longer reads"
ssum=$(md5sum <"$T/in.ptsnap")
expect_error mon "same file as the input" "$POOLTAG" mon -n "$T/in.ptsnap" "$T/in.ptsnap"
[ "$(md5sum <"$T/in.ptsnap")" = "$ssum" ] || fail "mon -n overwrote its input"

# Regular files are replaced, keeping their mode; a link stays a link.
echo old >"$T/keep.ptsnap"
chmod 640 "$T/keep.ptsnap"
ln -s keep.ptsnap "$T/keep-link"
"$POOLTAG" snap -o "$T/keep-link" "$P" >/dev/null || fail "snap over a regular file"
[ -L "$T/keep-link" ] || fail "snap -o replaced the symbolic link itself"
[ "$(stat -c %a "$T/keep.ptsnap")" = 640 ] || fail "mode not kept: $(stat -c %a "$T/keep.ptsnap")"
"$POOLTAG" used "$T/keep.ptsnap" >/dev/null || fail "the new snapshot does not read"
"$POOLTAG" snap -o "$T/new.ptsnap" "$P" >/dev/null || fail "snap to a new file"
[ "$(stat -c %a "$T/new.ptsnap")" = 600 ] || fail "new snapshot mode $(stat -c %a "$T/new.ptsnap")"
"$POOLTAG" trend --html "$T/r.html" "$T/app.db" >/dev/null || fail "trend --html"
grep -q '</html>' "$T/r.html" || fail "trend --html wrote no page"
[ "$(stat -c %s "$T/r.html")" -gt 50000 ] || fail "the page is too small for the ulimit case below"
"$POOLTAG" mon -n "$T/m.txt" "$P" || fail "mon -n"
grep -q '^Tag ' "$T/m.txt" || fail "mon -n wrote no table"

# A write that fails says why (was "write failed"), and leaves nothing
# (40 KiB: SQLite's 32 KiB -shm file fits, the 60 KiB page does not).
echo old >"$T/big.html"
rc=0
(ulimit -f 40; trap '' XFSZ; exec "$POOLTAG" trend --html "$T/big.html" "$T/app.db") \
    >/dev/null 2>"$T/big.err" || rc=$?
[ "$rc" = 2 ] || fail "trend --html past RLIMIT_FSIZE exited $rc: $(cat "$T/big.err")"
grep -q '^pooltag trend: .*File too large' "$T/big.err" ||
    fail "no reason for the failed write: $(cat "$T/big.err")"
[ "$(cat "$T/big.html")" = old ] || fail "the old file was damaged by a failed write"
! ls "$T" | grep -q '\.tmp' || fail "temporary files left: $(ls "$T")"
rc=0
(ulimit -f 4; trap '' XFSZ; exec "$POOLTAG" snap -o "$T/big.ptsnap" "$P") \
    >/dev/null 2>"$T/big.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^pooltag snap: .*File too large' "$T/big.err" ||
    fail "snap -o past RLIMIT_FSIZE: rc=$rc $(cat "$T/big.err")"

# /proc/version exists: "No such file or directory" was not the reason.
expect_error snap "does not allow new files" "$POOLTAG" snap -o /proc/version "$P"
echo "cli_outfiles: ok"
