#!/usr/bin/env bash
# mallinfo, mallinfo2, malloc_stats and malloc_info under the preload
# report the heap the program really uses, with both backends (issue 9,
# item 5: under mimalloc they reported glibc's untouched heap: zeros).
. "$(dirname "${BASH_SOURCE[0]}")/run_lib.sh"
need_preload
prog=$PT_BUILD/tests/preload_mallinfo
mib=16
bad=0
for be in mimalloc libc; do
    out=$(timeout 20 env PT_BACKEND=$be LD_PRELOAD="$PRELOAD" "$prog" $mib "$T/$be.xml" 2>"$T/$be.err")
    st=$?
    get() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
    want=$((mib * 1048576))
    # in use grows by the bytes allocated: exactly under mimalloc (pooltag's
    # counts), plus glibc's chunk overhead and pooltag's headers under glibc
    for k in uordblks2 uordblks; do
        d=$(get $k)
        lo=$want
        [ $be = mimalloc ] && hi=$want || hi=$((want + want / 20))
        if [ "$st" != 0 ] || [ -z "$d" ] || [ "$d" -lt "$lo" ] || [ "$d" -gt "$hi" ]; then
            echo "FAIL $be $k: grew by '${d}' for $want bytes (status $st)"; echo "$out"; cat "$T/$be.err"; bad=1
        else echo "ok   $be $k +$d"; fi
    done
    d=$(get after_free)
    if [ -z "$d" ] || [ "$d" -gt $((want / 100)) ]; then
        echo "FAIL $be: in use after free is +$d"; bad=1; else echo "ok   $be after free +$d"; fi
    [ "$(get mallopt_arena_max)" = 1 ] && echo "ok   $be mallopt" || { echo "FAIL $be mallopt: $out"; bad=1; }
    grep -Eq '^trim [01]$' <<<"$out" && echo "ok   $be malloc_trim" || { echo "FAIL $be malloc_trim: $out"; bad=1; }
    # malloc_stats: the total in use counts the live blocks
    inuse=$(awk '/^Total/ { t = 1 } t && /^in use bytes/ { print $NF }' "$T/$be.err")
    if [ -z "$inuse" ] || [ "$inuse" -lt "$want" ]; then
        echo "FAIL $be malloc_stats: in use '$inuse':"; cat "$T/$be.err"; bad=1
    else echo "ok   $be malloc_stats in use $inuse"; fi
    # malloc_info: well-formed XML whose total current system size holds them
    if sz=$($PY - "$T/$be.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "malloc", root.tag
cur = [int(e.get("size")) for e in root.findall("system") if e.get("type") == "current"]
print(cur[0])
PY
    ) && [ "$sz" -ge "$want" ]; then echo "ok   $be malloc_info system current $sz"
    else echo "FAIL $be malloc_info: '$sz'"; cat "$T/$be.xml"; bad=1; fi
done
exit $bad
