#!/usr/bin/env bash
# mon_tmux — the interactive `pooltag mon` screen, driven in tmux:
#   the title shows process, pid and sort; rows are sorted by bytes with
#   Leak on top; changed rows are bold and steady rows are not; t sorts by
#   tag (again: reversed), b by bytes, p cycles the pool filter; q quits
#   with status 0; when the process exits the screen says so and a key
#   ends mon with status 0.
# Every wait is bounded; the tmux server (own socket) and the notmyfault
# processes are killed on exit.
set -u
: "${POOLTAG:?}" "${NOTMYFAULT:?}"
if [ ! -x "$NOTMYFAULT" ]; then echo "SKIP: $NOTMYFAULT not built"; exit 77; fi
if ! command -v tmux >/dev/null; then echo "SKIP: tmux not installed"; exit 77; fi
if [ ! -x "$POOLTAG" ]; then echo "FAIL: $POOLTAG not built"; exit 1; fi

T=$(mktemp -d /tmp/pt_mon_tmux.XXXXXX)
SOCK="pt_mon_tmux_$$_$RANDOM"
pids=()
tm() { timeout 10 tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() {
  tm kill-server 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; fails=$((fails + 1)); }

screen() { tm capture-pane -p -t "$1"; }
# Tags of the table rows on screen: after the title and header lines, up to
# the separator above the totals.
screen_rows() { screen "$1" | awk 'NR > 2 && (/^-+$/ || !NF) { exit } NR > 2 { print $1 " " $2 }'; }
# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  while [ "$SECONDS" -lt "$end" ]; do
    if "$@"; then ok "$what"; return 0; fi
    sleep 0.2
  done
  fail "$what"; echo "--- screen:"; screen mon 2>/dev/null | sed 's/ *$//' | grep -v '^$'; echo "---"
  return 1
}
title_has()  { screen "$1" | head -1 | grep -q -- "$2"; }
top_row_is() { [ "$(screen_rows "$1" | head -1 | cut -d' ' -f1)" = "$2" ]; }
rows_sorted() {  # $1 session, $2 = "" or "-r"
  local tags; tags=$(screen_rows "$1" | cut -d' ' -f1)
  [ "$(wc -l <<<"$tags")" -ge 4 ] && [ "$tags" = "$(LC_ALL=C sort $2 <<<"$tags")" ]
}
only_type()  { local t; t=$(screen_rows "$1" | cut -d' ' -f2 | sort -u); [ "$t" = "$2" ]; }
# Is the row of tag $2 drawn bold (SGR 1 among the attributes on its line)?
row_bold() {
  tm capture-pane -e -p -t "$1" | grep -a "$2 " | head -1 |
    grep -aqE $'\x1b\\[([0-9]+;)*1(;[0-9]+)*m'
}
gone() { ! tm has-session -t "$1" 2>/dev/null; }

"$NOTMYFAULT" --leak paged --rate 200000 --duration 100 --quiet &
nmf=$!; pids+=("$nmf")

# mon runs inside a shell that records its exit status once it ends.
tm new-session -d -s mon -x 160 -y 40 \
  "bash -c 'for i in \$(seq 50); do \"$POOLTAG\" mon -n /dev/null -i Leak $nmf 2>/dev/null | grep -q ^Leak && break; sleep 0.1; done;
            \"$POOLTAG\" mon --interval 0.5 $nmf; echo \$? > $T/status'"
wait_for 15 "screen shows the title with process, pid, sort" \
  title_has mon "^notmyfault (pid $nmf)  RSS .*sort: bytes desc  pool: both"
wait_for 15 "sorted by bytes: Leak on top" top_row_is mon Leak
wait_for 5 "Leak row (changing) is bold" row_bold mon Leak
if row_bold mon Cach; then fail "Cach row (steady) is not bold"; else ok "Cach row (steady) is not bold"; fi
screen mon | sed 's/ *$//' | grep -v '^$'

tm send-keys -t mon t
wait_for 5 "t: title says sort: tag asc" title_has mon "sort: tag asc"
wait_for 5 "t: rows in tag order" rows_sorted mon ""
tm send-keys -t mon t
wait_for 5 "t again: sort: tag desc" title_has mon "sort: tag desc"
wait_for 5 "t again: rows in reverse tag order" rows_sorted mon "-r"
tm send-keys -t mon b
wait_for 5 "b: sort: bytes desc" title_has mon "sort: bytes desc"
wait_for 5 "b: Leak on top" top_row_is mon Leak
tm send-keys -t mon p
wait_for 5 "p: pool: paged" title_has mon "pool: paged"
wait_for 5 "p: only Paged rows" only_type mon Paged
tm send-keys -t mon p
wait_for 5 "p again: pool: nonpaged" title_has mon "pool: nonpaged"
wait_for 5 "p again: only Nonp rows" only_type mon Nonp
tm send-keys -t mon p
wait_for 5 "p a third time: pool: both" title_has mon "pool: both"
tm send-keys -t mon c
wait_for 5 "c: sort: change desc" title_has mon "sort: change desc"
wait_for 5 "c: Leak (the only row whose bytes change) on top" top_row_is mon Leak

tm send-keys -t mon q
wait_for 5 "q: mon exited" gone mon
if [ "$(cat "$T/status" 2>/dev/null)" = 0 ]; then ok "q: exit status 0"; else
  fail "q: exit status 0 (got '$(cat "$T/status" 2>/dev/null)')"; fi

# The process exits under the live screen.
"$NOTMYFAULT" --leak paged --rate 100000 --duration 3 --quiet &
short=$!; pids+=("$short")
tm new-session -d -s mon -x 160 -y 40 \
  "bash -c 'for i in \$(seq 50); do \"$POOLTAG\" mon -n $T/probe.txt $short 2>/dev/null && break; sleep 0.1; done;
            \"$POOLTAG\" mon --interval 0.3 $short; echo \$? > $T/status2'"
wait_for 10 "second mon is up" title_has mon "(pid $short)"
wait_for 15 "screen says the process exited" bash -c "tmux -L '$SOCK' capture-pane -p -t mon | grep -q 'process $short exited - press any key'"
tm send-keys -t mon x
wait_for 5 "a key ends mon" gone mon
if [ "$(cat "$T/status2" 2>/dev/null)" = 0 ]; then ok "exited process: exit status 0"; else
  fail "exited process: exit status 0 (got '$(cat "$T/status2" 2>/dev/null)')"; fi

if [ "$fails" -ne 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
