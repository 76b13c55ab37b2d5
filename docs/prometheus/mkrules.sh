#!/usr/bin/env bash
# mkrules.sh WINDOW [FOR] — write the pooltag Prometheus rules for a window
# to stdout, from rules.yml.in beside this script.  WINDOW and FOR are
# durations in s, m or h (e.g. 1h, 32s); WINDOW must divide into four whole
# seconds.  FOR defaults to a quarter of the window.
#   bash mkrules.sh 1h 15m > rules.yml        # the shipped rules
#   bash mkrules.sh 48s 4s  > test-rules.yml  # tests/serve_prometheus.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)

secs() {   # DURATION -> seconds
    case $1 in
        *[0-9]s) echo "${1%s}" ;;
        *[0-9]m) echo $(( ${1%m} * 60 )) ;;
        *[0-9]h) echo $(( ${1%h} * 3600 )) ;;
        *) echo "mkrules.sh: '$1' is not a duration like 30s, 15m or 1h" >&2; exit 2 ;;
    esac
}
dur() {    # seconds -> the shortest PromQL duration
    if [ $(( $1 % 3600 )) = 0 ]; then echo "$(( $1 / 3600 ))h"
    elif [ $(( $1 % 60 )) = 0 ]; then echo "$(( $1 / 60 ))m"
    else echo "${1}s"; fi
}

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: mkrules.sh WINDOW [FOR]" >&2; exit 2; }
w=$(secs "$1")
case $w in ''|*[!0-9]*) echo "mkrules.sh: bad window '$1'" >&2; exit 2 ;; esac
if [ "$w" -lt 4 ] || [ $(( w % 4 )) != 0 ]; then
    echo "mkrules.sh: the window must be a multiple of 4 seconds, not '$1'" >&2
    exit 2
fi
s=$(( w / 4 ))
f=$(secs "${2:-$(dur "$s")}")
sed -e "s/@WINDOW@/$(dur "$w")/g" -e "s/@SUB@/$(dur "$s")/g" \
    -e "s/@SUB2@/$(dur $(( 2 * s )))/g" -e "s/@SUB3@/$(dur $(( 3 * s )))/g" \
    -e "s/@FOR@/$(dur "$f")/g" "$here/rules.yml.in"
