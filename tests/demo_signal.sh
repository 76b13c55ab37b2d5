#!/usr/bin/env bash
# Without --duration notmyfault runs until SIGTERM or SIGINT, then exits 0,
# freeing what was not leaked and printing its summary.
. "$(dirname "$0")/demo_lib.sh"

for sig in TERM INT; do
    out=$(mktemp)
    # --leak paged + --load + 2 threads; it would stop by itself only after
    # 30 s if the signal were lost (then the test fails on the elapsed time).
    "$NOTMYFAULT" --leak paged --load --period 1 --threads 2 >"$out" 2>&1 &
    pid=$!
    sleep 1.5
    start=$SECONDS
    kill -"$sig" "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        bad "SIG$sig: still running 10 s later"; kill -KILL "$pid"
    fi
    wait "$pid"; st=$?
    if [ "$st" = 0 ] && [ $((SECONDS - start)) -le 5 ] &&
       grep -q '^notmyfault: pid '"$pid"': leaking' "$out" &&
       grep -q "counters agree" "$out"; then
        ok "SIG$sig: clean exit 0 with summary"
    else
        bad "SIG$sig: status $st"; cat "$out"
    fi
    check_steady "$out" Load paged
    rm -f "$out"
done
finish
