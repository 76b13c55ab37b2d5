#!/usr/bin/env bash
# python3 under the preload: CPython's own regression tests
# (`python3 -m test -j1 MODULES`, Debian's libpython3.11-testsuite), run
# once plain and once under libpooltag-preload.so.  Every module must have
# the same result (passed / failed / skipped / ...) in both runs, parsed
# from regrtest's summary (-W prints a failing module's output, to say
# which test cases failed).  With -j1 the tests run in a worker process
# started by the main one, and test_subprocess, test_os and test_threading
# start many more: all inherit the preload.
#
# The interpreter is Debian's /usr/bin/python3 (3.11), not a python3 that
# happens to be first on PATH (pyenv): the test suite package is Debian's.
#
# No balance check: CPython does not free everything at exit even without
# pooltag (valgrind: static types' dicts, the obmalloc arena table,
# locale data ... stay in use at exit).
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
PY=/usr/bin/python3
need_cmd "$PY"
"$PY" -c 'import test.libregrtest' 2>/dev/null ||
    skip "CPython's test suite is not installed (libpython3.11-testsuite; run scripts/deps.sh)"

# The required seven, then modules that reach other libraries (ctypes:
# dlopen/dlclose of libffi and test libraries; zlib, hashlib: libz and
# libcrypto; mmap; tracemalloc: CPython's own hooks).  The allocation-heavy
# modules that were here too (test_set, test_bytes, test_pickle, test_gc,
# test_weakref, test_decimal, test_collections, test_itertools) are left
# to PT_REAL_PY_MODULES: with them this test alone took 100 s of CI's 15
# minutes.
MODULES=(test_dict test_list test_json test_re test_threading test_subprocess test_os
         test_zlib test_ctypes test_hashlib test_tracemalloc test_mmap)
if [ -n "${PT_REAL_PY_MODULES:-}" ]; then
    read -r -a MODULES <<<"$PT_REAL_PY_MODULES"
fi

# summary FILE: "module status" for every module, from the lines after
# "== Tests result: ... ==": "N tests failed:" and its indented list of
# names, and so on; a module that no list names passed.
summary() {
    awk -v mods="${MODULES[*]}" '
        BEGIN { n = split(mods, m, " ") }
        /^== Tests result: / { on = 1; next }
        !on { next }
        /^Total duration/ || /^Tests result:/ { exit }
        /^[0-9]+ (re-run )?tests? .*:$/ {
            cat = $0
            sub(/^[0-9]+ (re-run )?tests? /, "", cat); sub(/:$/, "", cat)
            gsub(/ /, "_", cat)
            if ($0 ~ /re-run/) cat = "re-run"
            next
        }
        /^    / && cat != "" { for (i = 1; i <= NF; i++) st[$i] = cat; next }
        /^$/ { cat = "" }
        END {
            if (!on) { print "NO-SUMMARY"; exit }
            for (i = 1; i <= n; i++) print m[i], (m[i] in st ? st[m[i]] : "passed")
        }' "$1"
}

# The two runs at the same time: most of their time is spent waiting
# (test_subprocess and test_threading sleep), and one after the other they
# held a CI slot for 150 s.
run_py() {
    local mode=$1
    mkdir -p "$T/tmp_$mode"
    (cd "$T/tmp_$mode" &&
     run_mode "$mode" "py_$mode" 600 env -u PYTHONPATH -u PYTHONHOME -u PYTHONSTARTUP \
         TMPDIR="$T/tmp_$mode" "$PY" -m test -j1 -W --timeout 300 "${MODULES[@]}"
     echo "$RUN_RC $RUN_PID" >"$T/$mode.status")
}
run_py plain &
plain_job=$!
run_py pt
wait "$plain_job"
for mode in plain pt; do
    read -r rc pid <"$T/$mode.status"
    summary "$T/py_$mode.out" >"$T/$mode.sum"
    if grep -q NO-SUMMARY "$T/$mode.sum"; then
        bad "$mode: python3 -m test printed no summary (status $rc): $(tail -c 600 "$T/py_$mode.out") $(tail -c 600 "$T/py_$mode.err")"
    else
        ok "$mode: $(grep -c ' passed$' "$T/$mode.sum") of ${#MODULES[@]} modules passed (status $rc, $(grep '^Total duration' "$T/py_$mode.out"))"
    fi
    [ "$mode" = pt ] && pt_pid=$pid
done

if ! grep -q NO-SUMMARY "$T/plain.sum" "$T/pt.sum"; then
    if cmp -s "$T/plain.sum" "$T/pt.sum"; then
        ok "same result for every module: $(awk '{ print $2 }' "$T/plain.sum" | sort | uniq -c | awk '{ printf "%s%s %s", s, $1, $2; s = ", " }')"
    else
        bad "module results differ (module plain pt): $(join <(sort "$T/plain.sum") <(sort "$T/pt.sum") | awk '$2 != $3' | tr '\n' ';')"
        # -W printed the output of the failing modules: which test cases.
        grep -E -A8 '^(FAIL|ERROR): ' "$T/py_pt.out" | head -60
    fi
fi
# A module that failed in both runs is not pooltag's doing, but say so.
if grep -qv ' passed$' "$T/plain.sum" 2>/dev/null; then
    note "not passed even without the preload: $(grep -v ' passed$' "$T/plain.sum" | tr '\n' ' ')"
fi

check_quiet "python3 -m test under the preload" "$T/py_pt.err" "$T/py_pt.out"

if check_main_report py_pt "$pt_pid" "python3 -m test under the preload"; then
    n=$(report_count py_pt)
    # The main process, the -j1 worker and the processes the tests start.
    if [ "$n" -ge 2 ]; then
        ok "$n processes reported (regrtest worker, subprocesses of the tests)"
    else
        bad "only the main process reported: the regrtest worker ran untagged?"
    fi
fi
finish
