#!/usr/bin/env bash
# redis-server under the preload, on 127.0.0.1 only: driven by
# redis-benchmark (a bounded number of requests, random keys), then
# FLUSHALL and a fixed, generated sequence of ~200,000 commands (strings of
# many sizes, counters, lists, sets, hashes, sorted sets, deletes) sent with
# `redis-cli --pipe`.  DEBUG DIGEST (a hash of the whole dataset), DBSIZE and
# a few reads must equal those of the same run without the preload.
#
# Debian's redis-server is linked with libjemalloc, calls
# malloc_usable_size() itself and writes up to the usable size of its
# buffers (sds): under the preload all of that is pooltag's, so a wrong
# usable size shows here as corruption or a crash.
#
# No balance check: redis-server does not free its dataset and structures
# at shutdown (it exits).
# shellcheck source=tests/real_lib.sh
. "$(dirname "$0")/real_lib.sh"
need_preload
need_cmd redis-server redis-cli redis-benchmark

# The fixed command sequence, in the Redis protocol (RESP).
awk 'function cmd(n, a,   i, s) {
        s = "*" n "\r\n"
        for (i = 1; i <= n; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
        printf "%s", s
    }
    function val(i, len,   s) {
        s = sprintf("v%d:", i)
        while (length(s) < len) s = s s
        return substr(s, 1, len)
    }
    BEGIN {
        for (i = 1; i <= 30000; i++) {
            a[1] = "SET"; a[2] = "str:" (i * 7) % 6000; a[3] = val(i, 1 + (i * 131) % (i % 50 ? 300 : 20000)); cmd(3, a)
            a[1] = "INCRBY"; a[2] = "ctr:" i % 97; a[3] = i; cmd(3, a)
            a[1] = (i % 2 ? "LPUSH" : "RPUSH"); a[2] = "list:" i % 40; a[3] = val(i, 1 + i % 90); cmd(3, a)
            if (i % 3 == 0) { a[1] = "LPOP"; a[2] = "list:" (i * 11) % 40; cmd(2, a) }
            a[1] = "SADD"; a[2] = "set:" i % 30; a[3] = "m" (i * 13) % 2000; cmd(3, a)
            if (i % 5 == 0) { a[1] = "SREM"; a[2] = "set:" i % 30; a[3] = "m" (i * 17) % 2000; cmd(3, a) }
            a[1] = "HSET"; a[2] = "hash:" i % 50; a[3] = "f" (i * 3) % 700; a[4] = val(i, 1 + i % 200); cmd(4, a)
            a[1] = "ZADD"; a[2] = "zset:" i % 20; a[3] = (i * 7919) % 100003; a[4] = "z" i % 3000; cmd(4, a)
            if (i % 4 == 0) { a[1] = "APPEND"; a[2] = "app:" i % 25; a[3] = val(i, 1 + i % 64); cmd(3, a) }
            if (i % 11 == 0) { a[1] = "DEL"; a[2] = "str:" (i * 13) % 6000; cmd(2, a) }
            if (i % 997 == 0) { a[1] = "DEL"; a[2] = "hash:" i % 50; cmd(2, a) }
        }
    }' >"$T/commands.resp"

# run_redis MODE: one whole run; results in $T/MODE.*, the server's PID in
# REDIS_PID (empty if it did not start).
run_redis() {
    local mode=$1 port="" up=0 pid
    for _ in 1 2 3 4 5; do
        port=$(free_port) || { bad "$mode: no free port"; return 1; }
        mkdir -p "$T/redis_$mode"
        start_bg "$mode" "redis_$mode" redis-server --port "$port" --bind 127.0.0.1 \
            --save '' --appendonly no --dir "$T/redis_$mode" --daemonize no \
            --enable-debug-command local --protected-mode yes --loglevel notice
        pid=$BG_PID
        if redis_up "$port" "$pid"; then
            up=1
            break
        fi
        # Lost the port to another process: try another one.
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        if ! grep -q 'Address already in use' "$T/redis_$mode.out" "$T/redis_$mode.err"; then
            bad "$mode: redis-server did not start: $(tail -c 500 "$T/redis_$mode.out") $(tail -c 500 "$T/redis_$mode.err")"
            return 1
        fi
    done
    [ "$up" = 1 ] || { bad "$mode: redis-server did not start"; return 1; }
    REDIS_PID=$pid
    local cli=(timeout 60 redis-cli -h 127.0.0.1 -p "$port")

    # The benchmark: its requests are bounded (-n), its keys random (-r).
    timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -q -n 20000 -r 1000 \
        -t set,get,incr,lpush,rpush,lpop,sadd,hset -P 1 >"$T/$mode.bench" 2>&1
    local rc=$? lines
    lines=$(tr '\r' '\n' <"$T/$mode.bench" | grep -c 'requests per second')
    if [ "$rc" = 0 ] && [ "$lines" -ge 8 ]; then
        ok "$mode: redis-benchmark ran 8 tests: $(tr '\r' '\n' <"$T/$mode.bench" | grep 'requests per second' | awk '{ printf "%s%s %s", s, $1, $2; s = " " }')"
    else
        bad "$mode: redis-benchmark status $rc, $lines results: $(tr '\r' '\n' <"$T/$mode.bench" | tail -3)"
    fi

    # The deterministic part.
    "${cli[@]}" flushall >/dev/null
    timeout 120 redis-cli -h 127.0.0.1 -p "$port" --pipe <"$T/commands.resp" >"$T/$mode.pipe" 2>&1
    rc=$?
    if [ "$rc" = 0 ] && grep -q 'errors: 0,' "$T/$mode.pipe"; then
        ok "$mode: $(grep -o 'errors: 0, replies: [0-9]*' "$T/$mode.pipe") for the fixed commands"
    else
        bad "$mode: redis-cli --pipe status $rc: $(tail -c 300 "$T/$mode.pipe")"
    fi
    {
        echo "digest $("${cli[@]}" debug digest)"
        echo "dbsize $("${cli[@]}" dbsize)"
        echo "str:42 $("${cli[@]}" get str:42 | md5sum | cut -c1-12)"
        echo "ctr:5 $("${cli[@]}" get ctr:5)"
        echo "list:7 $("${cli[@]}" llen list:7) $("${cli[@]}" lrange list:7 0 -1 | md5sum | cut -c1-12)"
        echo "set:3 $("${cli[@]}" scard set:3) $("${cli[@]}" smembers set:3 | sort | md5sum | cut -c1-12)"
        echo "hash:9 $("${cli[@]}" hlen hash:9) $("${cli[@]}" hgetall hash:9 | paste - - | sort | md5sum | cut -c1-12)"
        echo "zset:4 $("${cli[@]}" zrange zset:4 0 -1 withscores | md5sum | cut -c1-12)"
    } >"$T/$mode.state"
    # (Hash and set replies come in the order of a dict seeded at random
    # per process: they are sorted before hashing.)
    "${cli[@]}" info memory | tr -d '\r' | grep -E '^(used_memory|mem_allocator):' >"$T/$mode.mem"

    "${cli[@]}" shutdown nosave >/dev/null 2>&1
    if wait_exit "$pid" 20; then
        ok "$mode: redis-server shut down (status $WAIT_RC)"
    else
        bad "$mode: redis-server still running 20 s after SHUTDOWN NOSAVE; killing it"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    return 0
}

REDIS_PID=
run_redis plain
REDIS_PID=
run_redis pt
pt_pid=$REDIS_PID

if [ -s "$T/plain.state" ] && grep -q '^digest [0-9a-f]\{40\}$' "$T/plain.state" &&
   ! grep -q '^digest 0\{40\}$' "$T/plain.state"; then
    if cmp -s "$T/plain.state" "$T/pt.state"; then
        ok "same DEBUG DIGEST, DBSIZE and reads: $(head -2 "$T/plain.state" | tr '\n' ' ')"
    else
        bad "the datasets differ: $(diff "$T/plain.state" "$T/pt.state" | grep '^[<>]' | tr '\n' ' ')"
    fi
else
    bad "plain run: no dataset digest: $(head -c 300 "$T/plain.state" 2>/dev/null)"
fi
note "plain: $(tr '\n' ' ' <"$T/plain.mem" 2>/dev/null)"
note "pt:    $(tr '\n' ' ' <"$T/pt.mem" 2>/dev/null)"
check_quiet "redis-server under the preload" "$T/redis_pt.err" "$T/redis_pt.out"

if [ -n "$pt_pid" ]; then
    check_main_report redis_pt "$pt_pid" "redis-server under the preload"
fi
finish
