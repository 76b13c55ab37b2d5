#!/usr/bin/env bash
# `pooltag vm` against notmyfault: process figures from /proc, pool usage
# and maxima in pages and KiB, and the Excessive flag once the nonpaged
# leak runs into its maximum (allocation failures).
. "$(dirname "$0")/cli_lib.sh"
need_notmyfault

# A calm process: no flag, Paged unlimited.
start_nmf
calm=$NMF_PID
timeout 20 "$POOLTAG" vm "$calm" >"$T/calm" || fail "vm exit $?"
cat "$T/calm"
for l in 'Resident (VmRSS):' 'Commit (VmData+VmStk):' 'Virtual Size (VmSize):' \
         'Locked (VmLck):' 'NonPagedPool Usage:' 'NonPagedPool Max:' \
         'NonPagedPool Failures:' 'PagedPool Usage:' 'PagedPool Max:' \
         'PagedPool Failures:' 'Caller Errors Detected:'; do
    grep -qF "    $l" "$T/calm" || fail "vm lacks '$l'"
done
grep -q "^\*\*\* Virtual Memory Usage \*\*\*  process $calm (notmyfault), live" "$T/calm" ||
    fail "vm title"
grep -q '^    PagedPool Max: *unlimited$' "$T/calm" || fail "Paged max not unlimited"
grep -q 'Excessive' "$T/calm" && fail "a calm process is flagged"
rss=$(awk '/^VmRSS:/{print $2}' "/proc/$calm/status")
shown=$(sed -n 's/^    Resident (VmRSS): *[0-9]* ( *\([0-9]*\) Kb)$/\1/p' "$T/calm")
[ -n "$shown" ] && [ $((shown - rss)) -lt 2048 ] && [ $((rss - shown)) -lt 2048 ] ||
    fail "RSS $shown Kb far from /proc's $rss Kb"

# A nonpaged leak against a 256 KiB maximum: failures, and the flag.
NMF_ENV="PT_NONPAGED_MAX=256K" start_nmf --leak nonpaged --rate 4M
pid=$NMF_PID
for _ in $(seq 100); do
    timeout 20 "$POOLTAG" vm "$pid" >"$T/vm" || fail "vm exit $?"
    grep -q '^    NonPagedPool Failures: *[1-9]' "$T/vm" && break
    sleep 0.1
done
cat "$T/vm"
grep -q '^    NonPagedPool Failures: *[1-9]' "$T/vm" || fail "no failures counted"
grep -q '^    NonPagedPool Max: *64 ( *256 Kb)$' "$T/vm" || fail "NonPaged max"
grep -q '^    \*\*\*\*\*\*\*\*\*\* Excessive NonPaged Pool Usage \*\*\*\*\*$' "$T/vm" ||
    fail "no Excessive NonPaged flag"
grep -q 'Excessive Paged' "$T/vm" && fail "Paged flagged"

timeout 20 "$POOLTAG" vm --json "$pid" >"$T/j" || fail "vm --json"
json_ok "$T/j"
python3 - "$T/j" <<'PY' || fail "vm JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
np = d["pools"]["nonpaged"]
assert np["limit_bytes"] == 262144 and np["failures"] > 0 and np["excessive"]
assert np["usage_bytes"] <= 262144 and np["usage_bytes"] > 0.8 * 262144, np
assert d["pools"]["paged"]["unlimited"]
assert d["process"]["rss_kb"] > 0 and d["process"]["commit_kb"] > 0
assert "Excessive NonPaged Pool Usage" in d["flags"]
PY
echo "cli vm tests passed"
