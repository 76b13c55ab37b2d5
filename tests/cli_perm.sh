#!/usr/bin/env bash
# Another user's process: pooltag follows the kernel's ptrace rule.  A
# process of uid 65534 is read by root and by uid 65534, and refused to
# uid 1 with a message that says why.  Needs root (to be three users).
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root and setpriv" >&2
    exit 77
fi
# Commands as another user (arrays, not functions: expect_error runs its
# command under timeout, which cannot run a shell function).
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
UID1=(setpriv --reuid=1 --regid=1 --clear-groups)
if ! "${NOBODY[@]}" test -x "$NOTMYFAULT" || ! "${UID1[@]}" test -x "$POOLTAG"; then
    echo "SKIP: the build tree is not readable by other users" >&2
    exit 77
fi

# setpriv execs notmyfault: $! is notmyfault itself.
"${NOBODY[@]}" "$NOTMYFAULT" --quiet --leak paged --rate 64K &
pid=$!
track_pid "$pid"
wait_tagged "$pid" Leak

for v in used vm; do
    expect_error "$v" "permission denied reading process $pid (uid 65534): pooltag follows the ptrace rule" \
        "${UID1[@]}" "$POOLTAG" "$v" "$pid"
done
expect_error snap "permission denied reading process $pid" "${UID1[@]}" "$POOLTAG" snap -o /tmp/pt_perm_never.ptsnap "$pid"
[ ! -e /tmp/pt_perm_never.ptsnap ] || fail "snapshot written without permission"

# Root may read it; so may its own user, by each way open to a non-root user.
timeout 20 "$POOLTAG" used "$pid" >"$T/root" || fail "root cannot read uid 65534's process"
[ "$(first_row "$T/root")" = Cach ] || [ "$(first_row "$T/root")" = Conf ] || fail "root reading: $(first_row "$T/root")"
for via in "" mem; do
    POOLTAG_READ_VIA=$via timeout 20 "${NOBODY[@]}" "$POOLTAG" used -i Leak "$pid" >"$T/same" ||
        fail "uid 65534 cannot read its own process (via '${via:-any}')"
    grep -q '^ Leak ' "$T/same" || fail "uid 65534 reading has no Leak (via '${via:-any}')"
done
echo "cli permission tests passed"
