#!/usr/bin/env bash
# pooltag log on a leaking notmyfault: the log has the identity and tables
# of docs/log-format.md, 'Leak' grows from sample to sample while the steady
# tags stay, the target's exit ends its series, and the logger ends by
# itself with a summary line.
. "$(dirname "$0")/log_lib.sh"

start_nmf --leak paged --rate 256K --duration 4
wait_tagged "$NMF_PID" Leak
DB=$T/leak.db
"$POOLTAG" log -o "$DB" --interval 200ms "$NMF_PID" >"$T/out" 2>"$T/err" &
LOG=$!
track_pid "$LOG"
wait_exit "$LOG" 30
[ "$RC" = 0 ] || fail "logger exited $RC: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "logger printed on stdout: $(cat "$T/out")"
grep -q "^pooltag log: wrote [0-9]* samples of 1 process to $DB" "$T/err" ||
    fail "no summary line: $(cat "$T/err")"
grep -q "^pooltag log: process $NMF_PID (notmyfault): exited after" "$T/err" ||
    fail "exit of the target not reported: $(cat "$T/err")"

# Identity and settings.
[ "$(q "$DB" 'PRAGMA application_id')" = 1347701831 ] || fail "application_id"
[ "$(q "$DB" 'PRAGMA user_version')" = 2 ] || fail "user_version"
[ "$(q "$DB" 'PRAGMA journal_mode')" = wal ] || fail "journal_mode"
[ "$(q "$DB" "SELECT value FROM meta WHERE key='format'")" = pooltag-log ] || fail "meta format"
[ "$(q "$DB" "SELECT value FROM meta WHERE key='version'")" = 2 ] || fail "meta version"
[ "$(q "$DB" "SELECT value FROM meta WHERE key='interval_ms'")" = 200 ] || fail "meta interval_ms"
[ "$(q "$DB" "SELECT value FROM meta WHERE key='max_size'")" = 0 ] || fail "meta max_size"
for k in created_ns host pooltag_version; do
    [ "$(q "$DB" "SELECT count(*) FROM meta WHERE key='$k'")" = 1 ] || fail "meta $k missing"
done
# Columns exactly as the contract names them, in its order.
cols() { q "$DB" "SELECT group_concat(name, ',') FROM pragma_table_info('$1')"; }
[ "$(cols meta)" = key,value ] || fail "meta columns: $(cols meta)"
[ "$(cols process)" = id,pid,start_ns,comm,exe,first_ns,last_ns,end_ns,end_reason ] ||
    fail "process columns: $(cols process)"
[ "$(cols sample)" = id,process,t_ns,rss_kb,commit_kb,paged_bytes,nonpaged_bytes,paged_max,nonpaged_max,paged_failures,nonpaged_failures,errors,paged_bytes_min,paged_bytes_max,nonpaged_bytes_min,nonpaged_bytes_max ] ||
    fail "sample columns: $(cols sample)"
[ "$(cols tag_sample)" = sample,tag,pool,allocs,frees,bytes_alloc,bytes_freed,bytes,failures,bytes_min,bytes_max ] ||
    fail "tag_sample columns: $(cols tag_sample)"
[ "$(cols tag)" = tag,text,binary,description ] || fail "tag columns: $(cols tag)"
q "$DB" "SELECT name FROM sqlite_schema WHERE type='index'" | grep -qx sample_by_process ||
    fail "index sample_by_process missing"

# The process row: its exit recorded after its last sample.
IFS='|' read -r pid comm first last endns reason < <(q "$DB" \
    "SELECT pid, comm, first_ns, last_ns, end_ns, end_reason FROM process")
[ "$pid" = "$NMF_PID" ] && [ "$comm" = notmyfault ] || fail "process row: $pid $comm"
[ "$reason" = exited ] || fail "end_reason '$reason'"
[ -n "$endns" ] && [ "$endns" -ge "$last" ] && [ "$last" -gt "$first" ] ||
    fail "times first=$first last=$last end=$endns"
[ "$(q "$DB" 'SELECT count(*) FROM process')" = 1 ] || fail "process rows"

# Samples: about 4 s / 200 ms of them, in time order, RSS known.
n=$(q "$DB" 'SELECT count(*) FROM sample')
[ "$n" -ge 8 ] && [ "$n" -le 30 ] || fail "$n samples for a 4 s run at 200 ms"
[ "$(q "$DB" 'SELECT count(*) FROM sample WHERE rss_kb <= 0 OR commit_kb <= 0')" = 0 ] ||
    fail "samples without RSS/commit"
[ "$(q "$DB" 'SELECT min(t_ns) = (SELECT first_ns FROM process), max(t_ns) = (SELECT last_ns FROM process) FROM sample')" = "1|1" ] ||
    fail "first_ns/last_ns do not match the samples"
# Mean spacing near the interval (loose: the machine is loaded).
gap=$(q "$DB" 'SELECT (max(t_ns) - min(t_ns)) / (count(*) - 1) / 1000000 FROM sample')
[ "$gap" -ge 150 ] && [ "$gap" -le 600 ] || fail "mean gap ${gap} ms for 200 ms"

# Leak grows: never decreases, and ends far above where it started.
leak="SELECT ts.bytes FROM tag_sample ts JOIN sample s ON s.id = ts.sample
      JOIN tag t ON t.tag = ts.tag WHERE t.text = 'Leak' AND ts.pool = 0 ORDER BY s.t_ns"
q "$DB" "$leak" >"$T/leak"
[ "$(wc -l <"$T/leak")" -ge 8 ] || fail "Leak in only $(wc -l <"$T/leak") samples"
sort -n -c "$T/leak" || fail "Leak bytes decreased: $(tr '\n' ' ' <"$T/leak")"
first=$(head -1 "$T/leak") last=$(tail -1 "$T/leak")
[ "$last" -ge $((first + 512 * 1024)) ] || fail "Leak grew only from $first to $last"
# The pool total includes it; steady tags stay steady.
[ "$(q "$DB" "SELECT count(*) FROM sample WHERE paged_bytes < (SELECT ts.bytes FROM tag_sample ts WHERE ts.sample = sample.id AND ts.tag = (SELECT tag FROM tag WHERE text='Leak') AND ts.pool = 0)")" = 0 ] ||
    fail "paged_bytes below Leak's bytes"
[ "$(q "$DB" "SELECT count(DISTINCT ts.bytes) FROM tag_sample ts JOIN tag t ON t.tag = ts.tag WHERE t.text = 'Cach'")" = 1 ] ||
    fail "Cach is not steady"
# bytes = bytes_alloc - bytes_freed everywhere; tags named from pooltag.txt.
[ "$(q "$DB" 'SELECT count(*) FROM tag_sample WHERE bytes != bytes_alloc - bytes_freed')" = 0 ] ||
    fail "bytes column inconsistent"
[ "$(q "$DB" "SELECT binary FROM tag WHERE text = 'Leak'")" = notmyfault ] || fail "tag Leak not named"
[ "$(q "$DB" "SELECT count(*) FROM tag WHERE text IN ('Cach','Conf','Sess','Leak')")" = 4 ] ||
    fail "tag table: $(q "$DB" 'SELECT text FROM tag')"
# The interval extremes (format 2) hold every sample; Cach, allocated
# once, has a zero-width interval.
[ "$(q "$DB" 'SELECT count(*) FROM tag_sample WHERE NOT (bytes_min <= bytes AND bytes <= bytes_max)')" = 0 ] ||
    fail "a tag's interval extremes do not hold its bytes"
[ "$(q "$DB" 'SELECT count(*) FROM sample WHERE NOT (paged_bytes_min <= paged_bytes AND paged_bytes <= paged_bytes_max AND nonpaged_bytes_min <= nonpaged_bytes AND nonpaged_bytes <= nonpaged_bytes_max)')" = 0 ] ||
    fail "a pool total's interval extremes do not hold it"
[ "$(q "$DB" "SELECT count(*) FROM tag_sample ts JOIN tag t ON t.tag = ts.tag WHERE t.text = 'Cach' AND bytes_min != bytes_max")" = 0 ] ||
    fail "Cach has an interval range"
[ "$(q "$DB" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
echo "log_basic: $n samples, Leak $first -> $last bytes"
