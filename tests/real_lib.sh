# shellcheck shell=bash
# real_lib.sh — sourced by tests/real_*.sh and bench/real_bench.sh (not a
# test).  Runs real programs, which no one here wrote, twice: once plain and
# once under libpooltag-preload.so, and checks the counters the preload
# leaves at exit.
#
# Model.  A "mode" is `plain` (LD_PRELOAD unset) or `pt` (the preload).  In
# mode pt every process writes its counters at exit to
# $T/rep_<label>/<pid> (PT_EXIT_REPORT=.../%p): one line per tag and pool,
# "TAG<tab>POOL<tab>ALLOCS<tab>FREES<tab>BYTES_ALLOC<tab>BYTES_FREED".
# A test passes only if the two runs agree AND a report proves that the
# preload really ran; when no report was written it exits 77 (skipped),
# never 0.  A test whose runs disagree exits 1 whatever the reports say.
#
# Environment:
#   PT_BUILD       build tree (set by tests/CMakeLists.txt)
#   PRELOAD        the preload (default $PT_BUILD/src/preload/libpooltag-preload.so)
#   POOLTAG        the CLI (default $PT_BUILD/src/cli/pooltag)
#   PT_REAL_VIA    preload (default: LD_PRELOAD=$PRELOAD PT_FOLLOW_CHILDREN=1
#                  CMD) or run (`pooltag run --follow-children -- CMD`)
#   PT_BACKEND and other PT_* settings pass through to the pt runs; the
#   plain runs drop every PT_* variable.
#
# Every background process is recorded with track_pid and killed by PID
# when the script ends, however it ends; foreground runs are bounded by
# `timeout`.

set -u
: "${PT_BUILD:?PT_BUILD is not set}"
PRELOAD=${PRELOAD:-$PT_BUILD/src/preload/libpooltag-preload.so}
POOLTAG=${POOLTAG:-$PT_BUILD/src/cli/pooltag}
PT_REAL_VIA=${PT_REAL_VIA:-preload}
unset PT_EXIT_REPORT LD_PRELOAD

fail=0
skip_reason=
PIDS=()
T=$(mktemp -d /tmp/pt_real_XXXXXX)
chmod 755 "$T"

ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fail=1; }
note() { echo "     $*"; }

track_pid() { PIDS+=("$1"); }

real_cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    if [ "${PT_REAL_KEEP:-0}" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
}
trap real_cleanup EXIT

# skip MESSAGE: skipped (exit 77) right away.
skip() { echo "SKIP: $*"; exit 77; }

# skip_later MESSAGE: the test goes on (its comparisons may still fail it)
# but cannot pass: finish exits 77 unless something failed.
skip_later() {
    [ -n "$skip_reason" ] || skip_reason=$*
    echo "skip $*"
}

# finish: 1 if anything failed, else 77 if the preload was not proven to
# have run, else 0.
finish() {
    if [ "$fail" != 0 ]; then
        echo "FAILED"
        exit 1
    fi
    if [ -n "$skip_reason" ]; then
        echo "SKIP: $skip_reason"
        exit 77
    fi
    echo "PASSED"
    exit 0
}

need_preload() {
    [ -f "$PRELOAD" ] || skip "preload $PRELOAD not built"
    if [ "$PT_REAL_VIA" = run ]; then
        [ -x "$POOLTAG" ] || skip "$POOLTAG not built"
        timeout 20 "$POOLTAG" run -- /bin/true >/dev/null 2>&1 ||
            skip "'pooltag run -- /bin/true' does not work yet"
    fi
}

# need_cmd CMD...: skipped when a program is missing (scripts/deps.sh
# installs them all).
need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] ||
            skip "$c not installed (run scripts/deps.sh)"
    done
}

# mode_cmd MODE LABEL: fills the array MODE_CMD with the prefix that runs a
# command in MODE; in mode pt its processes report to $T/rep_LABEL/%p.
MODE_CMD=()
mode_cmd() {
    local mode=$1 label=$2 v
    local -a plain_env=(env -u LD_PRELOAD)
    for v in $(compgen -e | grep '^PT_' || true); do
        plain_env+=(-u "$v")
    done
    if [ "$mode" = plain ]; then
        MODE_CMD=("${plain_env[@]}")
        return
    fi
    mkdir -p "$T/rep_$label"
    if [ "$PT_REAL_VIA" = run ]; then
        MODE_CMD=(env PT_EXIT_REPORT="$T/rep_$label/%p" "$POOLTAG" run --follow-children --)
    else
        # PT_FOLLOW_CHILDREN=1: the programs' children (cc1plus, git
        # pack-objects, regrtest workers ...) stay under the preload.
        MODE_CMD=(env LD_PRELOAD="$PRELOAD" PT_FOLLOW_CHILDREN=1 PT_EXIT_REPORT="$T/rep_$label/%p")
    fi
}

# run_mode MODE LABEL SECS CMD...: runs CMD in MODE, bounded by SECS, with
# stdout to $T/LABEL.out and stderr to $T/LABEL.err.  Sets RUN_RC (124 on
# timeout) and RUN_PID (the PID of CMD itself, whose report is
# $T/rep_LABEL/RUN_PID).  Standard input is /dev/null unless RUN_STDIN
# names a file.
# shellcheck disable=SC2034  # RUN_PID, WAIT_RC: read by the scripts that source this file
RUN_RC=0 RUN_PID=
run_mode() {
    local mode=$1 label=$2 secs=$3
    shift 3
    mode_cmd "$mode" "$label"
    local pidf="$T/$label.pid"
    RUN_RC=0
    timeout -k 10 "$secs" bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" \
        "${MODE_CMD[@]}" "$@" <"${RUN_STDIN:-/dev/null}" \
        >"$T/$label.out" 2>"$T/$label.err" || RUN_RC=$?
    # shellcheck disable=SC2034
    RUN_PID=$(cat "$pidf" 2>/dev/null)
    if [ "$RUN_RC" = 124 ] || [ "$RUN_RC" = 137 ]; then
        note "$label: timed out after $secs s"
    fi
}

# start_bg MODE LABEL CMD...: starts CMD in MODE in the background (output
# to $T/LABEL.out/.err), sets BG_PID (tracked, killed at the end).
BG_PID=
start_bg() {
    local mode=$1 label=$2
    shift 2
    mode_cmd "$mode" "$label"
    "${MODE_CMD[@]}" "$@" </dev/null >"$T/$label.out" 2>"$T/$label.err" &
    BG_PID=$!
    track_pid "$BG_PID"
}

# wait_exit PID SECS: waits for a background PID to end; 0 if it did (its
# status in WAIT_RC), 1 if it is still running after SECS.
# shellcheck disable=SC2034
WAIT_RC=0
wait_exit() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            WAIT_RC=0
            # shellcheck disable=SC2034
            wait "$pid" 2>/dev/null || WAIT_RC=$?
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on, below
# the kernel's ephemeral range: a port in that range may be taken at any
# moment by an outgoing connection, and a client connecting to a port in
# it where nothing listens can end up connected to itself.
free_port() {
    local p i lo=32768
    read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
    [ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
    for ((i = 0; i < 200; i++)); do
        p=$((10000 + RANDOM % (lo - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
                echo "$p"
                return 0
            fi
        fi
    done
    return 1
}

# --- exit reports --------------------------------------------------------

# report_count LABEL: how many processes wrote a report in run LABEL.
report_count() {
    find "$T/rep_$1" -type f 2>/dev/null | wc -l
}

# report_check FILE WHAT: the report of one process is well formed and
# consistent: 6 tab-separated fields, a pool name, decimal counters, no tag
# freed more often or more bytes than it allocated, and some allocation
# counted.  Prints ok/FAIL; returns 1 on a failure.
report_check() {
    local f=$1 what=$2 msg
    if [ ! -s "$f" ]; then
        bad "$what: report $f missing or empty"
        return 1
    fi
    msg=$(awk -F'\t' '
        NF != 6 || ($2 != "paged" && $2 != "nonpaged") ||
        $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ ||
        $5 !~ /^[0-9]+$/ || $6 !~ /^[0-9]+$/ { print "malformed line " NR ": " $0; err = 1; exit }
        $4 + 0 > $3 + 0 { print "tag \"" $1 "\" " $2 ": frees " $4 " > allocs " $3; err = 1; exit }
        $6 + 0 > $5 + 0 { print "tag \"" $1 "\" " $2 ": bytes freed " $6 " > bytes allocated " $5; err = 1; exit }
        { a += $3 }
        END { if (!err && a == 0) print "no allocation counted" }' "$f")
    if [ -n "$msg" ]; then
        bad "$what: $msg"
        return 1
    fi
    ok "$what: report well formed, $(wc -l <"$f") tag rows, frees <= allocs for every tag"
    return 0
}

# report_balanced FILE WHAT: every tag freed all it allocated (allocs =
# frees, bytes allocated = bytes freed).
report_balanced() {
    local f=$1 what=$2 msg
    msg=$(awk -F'\t' '
        $3 != $4 || $5 != $6 {
            printf "%s\"%s\" %s allocs %s frees %s bytes %s freed %s", sep, $1, $2, $3, $4, $5, $6
            sep = "; "
        }' "$f")
    if [ -n "$msg" ]; then
        bad "$what: counters do not balance at exit: $msg"
        return 1
    fi
    ok "$what: counters balance at exit for every tag ($(awk -F'\t' '{ a += $3 } END { print a }' "$f") allocations)"
    return 0
}

# report_summary FILE: one line "N tags, A allocs, F frees, B bytes live".
report_summary() {
    awk -F'\t' '{ n++; a += $3; f += $4; b += $5 - $6 }
        END { printf "%d tag rows, %d allocs, %d frees, %d bytes live at exit\n", n, a, f, b }' "$1"
}

# check_main_report LABEL PID WHAT: the report of the run's own process
# (PID) is checked with report_check; when the run wrote no report at all
# the test is marked skip_later (PT_EXIT_REPORT not implemented yet).
# Returns 0 when the report exists and is sane.
check_main_report() {
    local label=$1 pid=$2 what=$3 n
    n=$(report_count "$label")
    if [ "$n" = 0 ]; then
        skip_later "$what: no PT_EXIT_REPORT file written: cannot prove the preload ran"
        return 1
    fi
    if [ ! -f "$T/rep_$label/$pid" ]; then
        bad "$what: $n processes wrote reports, but not the program itself (PID $pid)"
        return 1
    fi
    report_check "$T/rep_$label/$pid" "$what" || return 1
    note "$what: $(report_summary "$T/rep_$label/$pid"); $n processes reported"
    return 0
}

# check_all_reports LABEL WHAT: report_check on every process of the run.
check_all_reports() {
    local label=$1 what=$2 f bads=0 n=0
    for f in "$T/rep_$label"/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        report_check "$f" "$what (pid ${f##*/})" >/dev/null || bads=$((bads + 1))
    done
    if [ "$bads" = 0 ] && [ "$n" -gt 0 ]; then
        ok "$what: all $n process reports well formed, frees <= allocs"
    elif [ "$n" -gt 0 ]; then
        # report_check printed nothing: say which ones.
        for f in "$T/rep_$label"/*; do
            report_check "$f" "$what (pid ${f##*/})" | grep '^FAIL' | head -3
        done
        bad "$what: $bads of $n process reports inconsistent"
    fi
}

# check_quiet WHAT FILE...: the preload printed no diagnostic ("pooltag:
# ..." on stderr: a bad or double free, a tag mismatch, an ignored
# setting ...) into the output of a pt run.
check_quiet() {
    local what=$1 hits
    shift
    hits=$(grep -h 'pooltag: ' "$@" 2>/dev/null | head -5)
    if [ -n "$hits" ]; then
        bad "$what: the preload reported: $hits"
        return 1
    fi
    ok "$what: no diagnostic from the preload"
    return 0
}

# redis_up PORT PID: waits (10 s at most) until the redis-server with this
# PID answers on 127.0.0.1:PORT.  The server must report PID as its
# process_id: a server of someone else's that holds the port is never
# driven (or flushed).  Returns 1 if PID exited or never answered.
redis_up() {
    local port=$1 pid=$2 i id
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        id=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
             tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
        if [ -n "$id" ]; then
            [ "$id" = "$pid" ] && return 0
            return 1
        fi
        sleep 0.1
    done
    return 1
}
