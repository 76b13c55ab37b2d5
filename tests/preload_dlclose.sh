#!/usr/bin/env bash
# Issue 9 item 4: after dlclose, a library loaded at the same address is
# charged to itself, not to the unloaded one.  fx_dlcycle loads libalpha.so
# (10 leaks), dlcloses it, loads libbravo.so (20), dlcloses it, loads
# libcharlie.so (30), dlcloses it: the same code under three names, so at
# the same address the allocating return addresses are equal too.  `used`,
# `lm` and `sites` (snapshot and live) must show three tags with their own
# counts and the modules as unloaded.  Then 300 distinct copies in turn,
# a dlclose that does not unload (a second handle), and a module table
# too small for them (it must say so).
. "$(dirname "$0")/run_lib.sh"
need_preload
need_python
F=${PT_FIXTURES:?PT_FIXTURES not set}
D=$F/dl
[ -x "$F/fx_dlcycle" ] && [ -f "$D/libcharlie.so" ] || { echo "SKIP: fixtures not built" >&2; exit 77; }

# start_host ENV... -- OP...: run fx_dlcycle under the preload; sets HPID
# once the host has written its report (read from a FIFO: no polling).
start_host() {
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    rm -f "$T/rep" "$T/in" "$T/report"
    mkfifo "$T/rep" "$T/in"
    exec 7<>"$T/in"
    env LD_PRELOAD="$PRELOAD" "${envs[@]}" "$F/fx_dlcycle" "$T/rep" "$@" <"$T/in" 7>&- &
    HPID=$!
    track_pid "$HPID"
    exec 8<"$T/rep"
    local line
    while IFS= read -r -t 20 line <&8; do
        [ "$line" = ready ] && break
        echo "$line" >>"$T/report"
    done
    exec 8<&-
    [ "$line" = ready ] || fail "fx_dlcycle did not get ready (rc of kill -0: $(kill -0 "$HPID" 2>&1; echo $?))"
}
stop_host() {
    exec 7>&-
    wait "$HPID" || fail "fx_dlcycle exited $?"
}

# -- alpha, bravo, charlie ------------------------------------------------
start_host -- "L:$D/libalpha.so:10" "L:$D/libbravo.so:20" "L:$D/libcharlie.so:30"
bases=$(awk '{print $2}' "$T/report" | sort -u | wc -l)
[ "$bases" = 1 ] && echo "the three plugins were loaded at one address" ||
    echo "note: the plugins were loaded at $bases addresses"
timeout 20 "$POOLTAG" snap -o "$T/abc.snap" "$HPID" >/dev/null 2>"$T/err" || fail "snap: $(cat "$T/err")"
for src in "$HPID" "$T/abc.snap"; do
    timeout 20 "$POOLTAG" used --json "$src" >"$T/used.json" 2>"$T/err" || fail "used $src: $(cat "$T/err")"
    for t in alph brav char; do
        timeout 20 "$POOLTAG" sites --json "$src" "$t" >"$T/sites.$t.json" 2>"$T/err" ||
            fail "sites $src $t: $(cat "$T/err")"
    done
    timeout 20 "$POOLTAG" lm --json "$src" >"$T/lm.json" 2>"$T/err" || fail "lm $src: $(cat "$T/err")"
    "$PY" - "$T" "$src" <<'PY' || fail "alpha/bravo/charlie, source $src"
import json, sys
T, src = sys.argv[1], sys.argv[2]
used = {t["tag"]: t for t in json.load(open(T + "/used.json"))["tags"]}
want = {"alph": (10, "libalpha.so"), "brav": (20, "libbravo.so"), "char": (30, "libcharlie.so")}
for tag, (n, lib) in want.items():
    got = used.get(tag, {}).get("paged", {}).get("blocks")
    assert got == n, "used: %s has %s blocks, want %d (%s)" % (tag, got, n, {k: v["paged"]["blocks"] for k, v in used.items()})
    assert used[tag]["binary"] == lib, "used: %s described as %r, want %s" % (tag, used[tag]["binary"], lib)
    sites = json.load(open("%s/sites.%s.json" % (T, tag)))["sites"]
    named = [(s["module"], s["blocks"]) for s in sites if s["blocks"]]
    assert named == [(lib, n)], "sites %s: %s, want [(%s, %d)]" % (tag, named, lib, n)
mods = json.load(open(T + "/lm.json"))["modules"]
for tag, (n, lib) in want.items():
    rows = [(m["name"], m["tag"], m["unloaded"]) for m in mods if m["name"] in (lib,) or m["tag"] == tag]
    assert rows == [(lib, tag, True)], "lm: %s: %s, want [(%s, %s, True)]" % (lib, rows, lib, tag)
PY
done
stop_host
echo "alpha/bravo/charlie: ok"

# -- 300 distinct copies in turn, then a dlclose that does not unload -----
mkdir "$T/c"
"$PY" -c 'import shutil, sys
for i in range(300):
    shutil.copyfile(sys.argv[1], "%s/libc%03d.so" % (sys.argv[2], i))' "$D/libalpha.so" "$T/c" ||
    fail "cannot copy the plugin"
ops=()
for i in $(seq 0 299); do
    printf -v n '%03d' "$i"
    ops+=("L:$T/c/libc$n.so:$((i % 3 + 1))")
done
start_host -- "${ops[@]}" "R:$D/libbravo.so:4"
echo "300 copies: loaded at $(awk '{print $2}' "$T/report" | sort -u | wc -l) distinct addresses"
timeout 20 "$POOLTAG" used --json "$HPID" >"$T/used.json" 2>"$T/err" || fail "used: $(cat "$T/err")"
timeout 20 "$POOLTAG" lm --json "$HPID" >"$T/lm.json" 2>"$T/err" || fail "lm: $(cat "$T/err")"
"$PY" - "$T" <<'PY' || fail "300 copies"
import json, sys
T = sys.argv[1]
used = {t["tag"]: t["paged"]["blocks"] for t in json.load(open(T + "/used.json"))["tags"]}
bad = {}
for i in range(300):
    tag = "c%03d" % i
    if used.get(tag) != i % 3 + 1:
        bad[tag] = used.get(tag)
assert not bad, "copies with wrong counts (%d): %s" % (len(bad), dict(list(bad.items())[:8]))
assert used.get("brav") == 8, "brav (dlclose of a second handle) has %s blocks, want 8" % used.get("brav")
mods = json.load(open(T + "/lm.json"))["modules"]
bravo = [(m["tag"], m["unloaded"]) for m in mods if m["name"] == "libbravo.so"]
assert bravo == [("brav", False)], "lm: libbravo.so %s, want loaded with tag brav" % bravo
PY
stop_host
echo "300 copies: ok"

# -- a module table too small: said, never silent ---------------------------
ops=()
for i in $(seq 0 39); do
    printf -v n '%03d' "$i"
    ops+=("L:$T/c/libc$n.so:1")
done
start_host PT_MAX_MODULES=16 -- "${ops[@]}"
timeout 20 "$POOLTAG" used "$HPID" >"$T/used.txt" 2>"$T/err" || fail "used: $(cat "$T/err")"
timeout 20 "$POOLTAG" lm "$HPID" >"$T/lm.txt" 2>"$T/err" || fail "lm: $(cat "$T/err")"
timeout 20 "$POOLTAG" used --json "$HPID" >"$T/used.json" 2>"$T/err" || fail "used --json: $(cat "$T/err")"
"$PY" -c 'import json, sys; n = json.load(open(sys.argv[1]))["modules_not_recorded"]; assert n > 0, n' \
    "$T/used.json" || fail "used --json: modules_not_recorded is not > 0"
for f in used lm; do
    grep -q 'module table.*full.*PT_MAX_MODULES' "$T/$f.txt" ||
        fail "$f does not say that the module table is full: $(cat "$T/$f.txt")"
done
"$PY" - "$T" <<'PY' || fail "full module table: $(cat "$T/used.txt")"
import sys
T = sys.argv[1]
rows = {}
for line in open(T + "/used.txt"):
    w = line.split()
    if len(w) >= 5 and w[0].startswith("c0"):
        rows[w[0]] = int(w[3])
bad = {t: rows.get(t) for t in ("c%03d" % i for i in range(40)) if rows.get(t) != 1}
assert not bad, "copies with wrong counts: %s" % bad
PY
stop_host
echo "preload_dlclose: ok"
