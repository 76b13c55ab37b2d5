#!/usr/bin/env bash
# A core written by the kernel (core_fx killed with SIGSEGV, core files on
# with ulimit -c, written into the test's folder): under the default
# coredump_filter (0x33) the pooltag segment, a shared memfd mapping, is in
# it (bit 1, anonymous shared memory: a memfd has no link), so used and
# sites read it and agree with the live readings taken just before; both
# threads with their registers and stacks; every module with its build-id
# (bit 4: the first page of ELF mappings).  Skipped, with the reason, when
# core_pattern pipes cores to a program or no core appears.
. "$(dirname "$0")/cli_lib.sh"
. "$(dirname "$0")/core_lib.sh"

pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
case $pattern in
'|'*) echo "SKIP: core_pattern pipes cores to a program ($pattern): no file to read" >&2
      exit 77 ;;
/*) echo "SKIP: core_pattern writes cores to an absolute path ($pattern), not the test's folder" >&2
    exit 77 ;;
esac

FX_ULIMIT=1 start_fx
P=$FX_PID
filter=$(cat "/proc/$P/coredump_filter")
echo "core_pattern '$pattern', coredump_filter $filter"
"$POOLTAG" used "$P" >"$T/used.live" || fail "used live"
"$POOLTAG" sites "$P" CoA1 >"$T/sites.live" || fail "sites live"
"$POOLTAG" lm "$P" >"$T/lm.live" || fail "lm live"
kill -SEGV "$P"
wait "$P" 2>/dev/null
C=
for _ in $(seq 100); do
    for f in "$T"/core "$T/core.$P" "$T"/core.*; do
        [ -f "$f" ] && C=$f && break 2
    done
    sleep 0.05
done
if [ -z "$C" ]; then
    echo "SKIP: no core file appeared in $T (core_pattern '$pattern', ulimit -c $(ulimit -Hc) hard)" >&2
    exit 77
fi
sleep 0.2 # the kernel may still be writing it when it appears

"$TEST_PIMG" "$C" >"$T/sum" || fail "test_pimg $C"
cat "$T/sum"
grep -q "^pid $P comm core_fx exe $CORE_FX\$" "$T/sum" || fail "pid/comm/exe: $(head -1 "$T/sum")"
grep -q "^threads 2 with-registers 2 stacks-dumped 2\$" "$T/sum" || fail "threads: $(cat "$T/sum")"
grep -q "^segment found" "$T/sum" ||
    fail "the segment is not in a kernel core under coredump_filter $filter"
python3 - "$T/sum" <<'PY' || fail "modules: $(cat "$T/sum")"
import sys
lines = open(sys.argv[1]).read().splitlines()
seg = next(l for l in lines if l.startswith("segment")).split()
assert seg[3] == seg[5], "segment not wholly dumped: " + " ".join(seg)
mods = next(l for l in lines if l.startswith("modules")).split()
assert int(mods[1]) >= 4 and mods[1] == mods[3], "a module without build-id"
PY

"$POOLTAG" used "$C" >"$T/used.core" 2>"$T/err" || fail "used core: $(cat "$T/err")"
same_report used "$T/used.live" "$T/used.core"
"$POOLTAG" sites "$C" CoA1 >"$T/sites.core" || fail "sites core"
same_report sites "$T/sites.live" "$T/sites.core"
"$POOLTAG" lm "$C" >"$T/lm.core" 2>"$T/err" || fail "lm core: $(cat "$T/err")"
same_report lm "$T/lm.live" "$T/lm.core"
echo PASS
