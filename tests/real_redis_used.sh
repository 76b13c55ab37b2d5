#!/usr/bin/env bash
# `pooltag used PID` on a live redis-server started under the preload: the
# tags are listed with Used > 0, storing 20 MB of values shows up as at
# least 20 MB more paged Used (most of it in one tag), and FLUSHALL gives it
# back.  Everything on 127.0.0.1; the server is stopped with SHUTDOWN
# NOSAVE, killed by PID as a fallback.
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
need_cmd redis-server redis-cli
[ -x "$POOLTAG" ] || skip "$POOLTAG not built"

port=$(free_port) || { bad "no free port"; finish; }
mkdir -p "$T/data"
start_bg pt redis redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --dir "$T/data" --daemonize no --protected-mode yes
pid=$BG_PID
cli=(timeout 60 redis-cli -h 127.0.0.1 -p "$port")
if ! redis_up "$port" "$pid"; then
    bad "redis-server under the preload did not start: $(tail -c 500 "$T/redis.out") $(tail -c 500 "$T/redis.err")"
    finish
fi
ok "redis-server $pid answers on 127.0.0.1:$port"
if grep -q 'memfd:pooltag' "/proc/$pid/maps" 2>/dev/null; then
    ok "redis-server maps the pooltag segment"
else
    bad "redis-server has no pooltag segment mapped: the preload is not active"
    finish
fi

# used_paged FILE: the paged Used column of the TOTAL row (4th number).
used_paged() { awk '$1 == "TOTAL" && NF >= 5 { print $5 }' "$1"; }

# used_now NAME: `pooltag used PID` into $T/NAME.txt; fails the test if it
# does not work.
used_now() {
    local rc=0
    timeout 30 "$POOLTAG" used "$pid" >"$T/$1.txt" 2>"$T/$1.err" || rc=$?
    if [ "$rc" != 0 ] || [ -z "$(used_paged "$T/$1.txt")" ]; then
        bad "pooltag used $pid ($1) exited $rc: $(head -c 300 "$T/$1.err") $(head -c 300 "$T/$1.txt")"
        return 1
    fi
    return 0
}

used_now start || finish
rows=$(awk '/^ Tag /{ on = 1; next } on && NF >= 5 && $1 != "TOTAL" && $3 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ && ($3 + $5) > 0' "$T/start.txt" | wc -l)
base=$(used_paged "$T/start.txt")
if [ "$rows" -ge 1 ] && [ "$base" -gt 0 ]; then
    ok "pooltag used lists $rows tags with Used > 0, paged TOTAL $base bytes"
else
    bad "pooltag used: $rows tags with Used > 0, paged TOTAL '$base'"
    cat "$T/start.txt"
fi

# 2,000 values of 10,000 bytes: 20,000,000 bytes of data.
awk 'BEGIN { v = "x"; while (length(v) < 10000) v = v v; v = substr(v, 1, 10000)
             for (i = 0; i < 2000; i++)
                 printf "*3\r\n$3\r\nSET\r\n$%d\r\nbig:%d\r\n$10000\r\n%s\r\n", length("big:" i), i, v }' \
    >"$T/fill.resp"
timeout 60 redis-cli -h 127.0.0.1 -p "$port" --pipe <"$T/fill.resp" >"$T/fill.out" 2>&1
grep -q 'errors: 0, replies: 2000' "$T/fill.out" || bad "filling redis: $(cat "$T/fill.out")"
used_now filled || finish
full=$(used_paged "$T/filled.txt")
grow=$((full - base))
if [ "$grow" -ge 20000000 ] && [ "$grow" -le 60000000 ]; then
    ok "20 MB of values: paged Used grew by $grow bytes ($base -> $full)"
else
    bad "20 MB of values: paged Used grew by $grow bytes ($base -> $full), want 20,000,000 to 60,000,000"
fi
top=$(awk '/^ Tag /{ on = 1; next } on && NF >= 5 && $1 != "TOTAL" && $5 ~ /^[0-9]+$/ { if ($5 > m) { m = $5; t = $1 } } END { print t, m }' "$T/filled.txt")
read -r top_tag top_used <<<"$top"
if [ "${top_used:-0}" -ge 20000000 ]; then
    ok "tag '$top_tag' holds the values: $top_used bytes paged ($(grep -m1 "^ $top_tag " "$T/filled.txt" | awk '{ $1 = $2 = $3 = $4 = $5 = ""; print }' | sed 's/^ *//'))"
else
    bad "no tag holds the 20 MB: the largest is '$top_tag' with '$top_used'"
    cat "$T/filled.txt"
fi

"${cli[@]}" flushall >/dev/null
used_now flushed || finish
after=$(used_paged "$T/flushed.txt")
if [ $((full - after)) -ge 19000000 ]; then
    ok "FLUSHALL: paged Used fell by $((full - after)) bytes ($full -> $after)"
else
    bad "FLUSHALL: paged Used fell only by $((full - after)) bytes ($full -> $after)"
fi

"${cli[@]}" shutdown nosave >/dev/null 2>&1
if wait_exit "$pid" 20; then
    ok "redis-server shut down"
else
    bad "redis-server still running 20 s after SHUTDOWN NOSAVE"
fi
check_quiet "redis-server under the preload" "$T/redis.err" "$T/redis.out"
finish
