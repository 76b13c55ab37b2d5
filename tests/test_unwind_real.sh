#!/usr/bin/env bash
# The own CFI unwinder inside the malloc of real programs (sqlite3, perl,
# python3; those installed): tests/unwind_cfi_preload.c walks every 16th
# malloc-family call with pt_cfi_backtrace and unw_backtrace and compares.
# Each program must give a number of walks (more than 100; pkg-config, whose
# main has a 67 KB frame: 10), none that differ, none that stop early.  Skip (77) when libunwind or all the programs are missing.
set -u
P="$PT_BUILD/tests/libunwind_cfi_preload.so"
ls /usr/lib/x86_64-linux-gnu/libunwind.so.8* >/dev/null 2>&1 || { echo "SKIP no libunwind.so.8"; exit 77; }
fail=0 ran=0
check() { # name min-walks cmd... : run under the preload, judge its summary line
  local name=$1 min=$2; shift 2
  command -v "$1" >/dev/null 2>&1 || { echo "--   $name: not installed"; return; }
  ran=$((ran + 1))
  local line
  line=$(LD_PRELOAD="$P" timeout 60 "$@" 2>&1 >/dev/null | grep '^unwind_cfi_preload:' | tail -1)
  local walks differ shorter
  walks=$(sed -n 's/.*walks \([0-9]*\),.*/\1/p' <<<"$line")
  differ=$(sed -n 's/.*differ \([0-9]*\),.*/\1/p' <<<"$line")
  shorter=$(sed -n 's/.*shorter \([0-9]*\) .*/\1/p' <<<"$line")
  if [ -n "$walks" ] && [ "$walks" -gt "$min" ] && [ "$differ" = 0 ] && [ "$shorter" = 0 ]; then
    echo "ok   $name: $line"
  else
    echo "FAIL $name: ${line:-no summary line}"; fail=1
  fi
}
check sqlite3 100 sqlite3 :memory: "create table t(a,b); with recursive c(x) as (select 1 union all select x+1 from c where x<20000) insert into t select x, printf('%08d',x) from c; create index i on t(b); select count(*) from t;"
check perl 100 perl -e 'my %h; $h{$_} = [$_ x 40] for 1..20000; print scalar(keys %h), "\n"'
check pkg-config 10 pkg-config --libs --cflags libunwind
check python3 100 /usr/bin/python3 -c "
import threading
def w():
    x = [bytes(1000 + i) for i in range(3000)]
t = [threading.Thread(target=w) for _ in range(4)]
[a.start() for a in t]; [a.join() for a in t]"
[ "$ran" -gt 0 ] || { echo "SKIP none of sqlite3, perl, python3"; exit 77; }
exit $fail
