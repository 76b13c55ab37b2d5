#!/usr/bin/env bash
# `pooltag hit PID TAG` on a live redis-server (issue 11 item 5, real
# programs): redis-server runs under the preload on 127.0.0.1 (a port of
# its own); the tag of its own module (the preload's module tagging, read
# from `pooltag used PID`) is switched on while it runs; 1,000 SETs and
# 500 DELs go through it; `pooltag hit --show PID --json` must then list
# allocations and frees of that tag only, with stacks through redis'
# functions: its allocator wrapper (zmalloc, zcalloc, zrealloc, ...) and
# the command path (call, processCommand, processInputBuffer,
# readQueryFromClient, aeProcessEvents, aeMain, main).  `hit --off` must
# stop the recording: 1,000 more SETs add (almost) no record.  The server is stopped
# with SHUTDOWN NOSAVE, killed by PID as a fallback.
# shellcheck source=tests/real_trace_lib.sh
. "$(dirname "$0")/real_trace_lib.sh"
need_preload
need_cmd redis-server redis-cli
need_trace

port=$(free_port) || { bad "no free port"; finish; }
mkdir -p "$T/data"
start_bg pt redis redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$T/data" --daemonize no --protected-mode yes
pid=$BG_PID
if ! redis_up "$port" "$pid"; then
    bad "redis-server under the preload did not start: $(tail -c 500 "$T/redis.err")"
    finish
fi
ok "redis-server $pid answers on 127.0.0.1:$port"

timeout 30 "$POOLTAG" used "$pid" >"$T/used.txt" 2>"$T/used.err" ||
    { bad "pooltag used $pid: $(head -c 300 "$T/used.err")"; finish; }
# Debian's /usr/bin/redis-server is a link to redis-check-rdb: the module
# (and the frames' module) is the file it resolves to.
rmod=$(basename "$(readlink -f "$(command -v redis-server)")")
tag=$(module_tag "$T/used.txt" "/$rmod\$")
if [ -z "$tag" ]; then
    bad "pooltag used shows no automatic tag of module $rmod (redis-server)"
    cat "$T/used.txt"
    finish
fi
ok "redis-server's own module ($rmod) has tag '$tag'"

# sets FIRST COUNT: COUNT SETs of 200-byte values, keys k:FIRST...
sets() {
    awk -v a="$1" -v n="$2" 'BEGIN { v = sprintf("%200s", ""); gsub(/ /, "v", v)
        for (i = a; i < a + n; i++)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\nk:%d\r\n$200\r\n%s\r\n", length("k:" i), i, v }' >"$T/sets.resp"
    timeout 60 redis-cli -h 127.0.0.1 -p "$port" --pipe <"$T/sets.resp" >"$T/sets.out" 2>&1
    grep -q "errors: 0, replies: $2" "$T/sets.out" || bad "SETs: $(cat "$T/sets.out")"
}
dels() {
    awk -v a="$1" -v n="$2" 'BEGIN { for (i = a; i < a + n; i++)
        printf "*2\r\n$3\r\nDEL\r\n$%d\r\nk:%d\r\n", length("k:" i), i }' >"$T/dels.resp"
    timeout 60 redis-cli -h 127.0.0.1 -p "$port" --pipe <"$T/dels.resp" >"$T/dels.out" 2>&1
    grep -q "errors: 0, replies: $2" "$T/dels.out" || bad "DELs: $(cat "$T/dels.out")"
}

rc=0
timeout 30 "$POOLTAG" hit "$pid" "$tag" >"$T/hit.out" 2>"$T/hit.err" || rc=$?
if [ "$rc" = 0 ]; then
    ok "pooltag hit $pid '$tag': $(head -2 "$T/hit.out" | tr '\n' ' ')"
else
    bad "pooltag hit $pid '$tag' exited $rc: $(head -c 300 "$T/hit.err")"
    finish
fi
sets 0 1000
dels 0 500

# show NAME: `pooltag hit --show PID --json` into $T/NAME.json and its
# stacks into $T/NAME.tsv.
show() {
    local rc=0
    timeout 120 "$POOLTAG" hit --show "$pid" --json >"$T/$1.json" 2>"$T/$1.err" || rc=$?
    if [ "$rc" != 0 ]; then
        bad "pooltag hit --show $pid --json ($1) exited $rc: $(head -c 300 "$T/$1.err")"
        return 1
    fi
    if ! stacks_tsv "$T/$1.json" >"$T/$1.tsv"; then
        bad "pooltag hit --show $pid --json ($1): not JSON: $(head -c 200 "$T/$1.json")"
        return 1
    fi
    return 0
}
show on || finish
n=$(grep -c '^records\.' "$T/on.tsv")
na=$(awk -F'\t' '$1 ~ /^records\./ && $3 == "alloc"' "$T/on.tsv" | wc -l)
nf=$(awk -F'\t' '$1 ~ /^records\./ && $3 == "free"' "$T/on.tsv" | wc -l)
# Each SET allocates at least its value's string (200 bytes); each DEL
# frees one.
if [ "$na" -ge 1000 ] && [ "$nf" -ge 500 ]; then
    ok "hit ring: $n records, $na allocations and $nf frees of '$tag'"
else
    bad "hit ring: $n records, $na allocations (want >= 1000) and $nf frees (want >= 500)"
fi
others=$(awk -F'\t' -v t="$tag" '$1 ~ /^records\./ && $2 != t { print $2 }' "$T/on.tsv" | sort -u | head -5 | tr '\n' ' ')
if [ -z "$others" ]; then
    ok "every record is of tag '$tag'"
else
    bad "records of other tags than '$tag': $others"
fi
# Stacks through redis' own functions.
# m: the module's name as a regular expression (dots escaped).
m=${rmod//./\\.}
zm=$(awk -F'\t' -v m="$m" '$1 ~ /^records\./ && $6 ~ (m "!z(try)?(malloc|calloc|realloc)")' "$T/on.tsv" | wc -l)
cmdp=$(awk -F'\t' -v m="$m" '$1 ~ /^records\./ && $6 ~ (m "!(call|processCommand|processInputBuffer|readQueryFromClient|aeProcessEvents|aeMain|main)(\\||$)")' "$T/on.tsv" | wc -l)
setc=$(awk -F'\t' -v m="$m" '$1 ~ /^records\./ && $3 == "alloc" && $6 ~ (m "!setCommand(\\||$)") && $6 ~ (m "!call(\\||$)")' "$T/on.tsv" | wc -l)
if [ "$zm" -ge 500 ] && [ "$cmdp" -ge 500 ]; then
    ok "stacks through redis' functions: $zm through its z*alloc wrapper, $cmdp through its command path"
else
    bad "stacks through redis' functions: $zm through z*alloc (want >= 500), $cmdp through the command path (want >= 500)"
fi
if [ "$setc" -ge 1 ]; then
    ok "$setc allocations are charged through setCommand <- call"
else
    bad "no allocation stack has setCommand and call"
fi
ex=$(awk -F'\t' -v m="$m" '$1 ~ /^records\./ && $3 == "alloc" && $6 ~ (m "!setCommand") { print $6; exit }' "$T/on.tsv")
note "an allocation's stack: ${ex//|/ < }"

rc=0
timeout 30 "$POOLTAG" hit "$pid" --off >"$T/off.out" 2>"$T/off.err" || rc=$?
if [ "$rc" = 0 ]; then
    ok "pooltag hit $pid --off"
else
    bad "pooltag hit $pid --off exited $rc: $(head -c 300 "$T/off.err")"
fi
# ring_head NAME: the hit ring's head (records ever written) now, from
# `hit --show --json` filtered on an address no block has (no record
# printed, nothing to symbolize).
ring_head() {
    timeout 60 "$POOLTAG" hit --show "$pid" --address 0x8 --json >"$T/$1.json" 2>"$T/$1.err" &&
        json_get "$T/$1.json" head
}
# --off waited until the runtime applied it.  From then on nothing is
# recorded: 1,000 SETs would add >= 1,000 allocations while on.  A block
# allocated while on and freed after is still a traced block: allow a few.
h1=$(ring_head off1)
sets 5000 1000
h2=$(ring_head off2)
if [ -n "$h1" ] && [ -n "$h2" ] && [ "$h2" -le $((h1 + 10)) ]; then
    ok "after --off, 1,000 SETs added $((h2 - h1)) records (ring head $h1 -> $h2)"
else
    bad "after --off, the ring head moved from '$h1' to '$h2' over 1,000 SETs"
fi

timeout 20 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1
if wait_exit "$pid" 20; then
    ok "redis-server shut down"
else
    bad "redis-server still running 20 s after SHUTDOWN NOSAVE"
fi
finish
