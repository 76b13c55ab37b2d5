#!/usr/bin/env bash
# fuzz/make_corpus.sh BUILD_DIR — regenerate the seed corpus of fuzz_segment
# (fuzz/corpus/segment/) from a built tree: the synthetic image and snapshot
# of tests/test_reader_parse, and a real snapshot of a small notmyfault
# (PT_MAX_TAGS=16, so the file stays near 12 KiB).
set -euo pipefail
build=${1:?usage: fuzz/make_corpus.sh BUILD_DIR}
out=$(cd "$(dirname "$0")" && pwd)/corpus/segment
mkdir -p "$out"
"$build/tests/test_reader_parse" --write-seeds "$out"
PT_MAX_TAGS=16 PT_MAX_SITES=16 PT_MAX_MODULES=16 PT_MAX_THREADS=2 "$build/demo/notmyfault" --quiet \
    --leak nonpaged --load --duration 5 &
pid=$!
sleep 1
"$build/src/cli/pooltag" snap -o "$out/notmyfault.ptsnap" "$pid"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
# A preloaded process: module table and call sites, kept small.
PT_MAX_TAGS=16 PT_MAX_SITES=16 PT_MAX_MODULES=16 PT_MAX_THREADS=2 \
    LD_PRELOAD="$build/src/preload/libpooltag-preload.so" \
    /usr/bin/python3 -c 'import time; x = [str(i) * 50 for i in range(3000)]; time.sleep(5)' &
pid=$!
sleep 1.5
"$build/src/cli/pooltag" snap -o "$out/preload.ptsnap" "$pid"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
chmod 644 "$out"/*
ls -l "$out"
# fuzz_trace (fuzz/corpus/trace/): tests/hv_segment's fixture segment, with
# a leak report and a short verify log, and each of its damaged variants.
trace=$(dirname "$out")/trace
mkdir -p "$trace"
"$build/tests/hv_segment" --write "$trace/fixture.seg"
"$build/tests/hv_segment" --write "$trace/leak_short.seg" --leak --short-log
for v in trunc badslot badring badop badtracked badleak; do
    "$build/tests/hv_segment" --write "$trace/$v.seg" "$v"
done
chmod 644 "$trace"/*
ls -l "$trace"
# fuzz_special (fuzz/corpus/special/): hv_segment --special (the special
# page, block records and reports), and each of its damaged variants.
special=$(dirname "$out")/special
mkdir -p "$special"
"$build/tests/hv_segment" --write "$special/fixture.seg" --special
for v in badblk badreport badspecial truncsp; do
    "$build/tests/hv_segment" --write "$special/$v.seg" "$v" --special
done
chmod 644 "$special"/*
ls -l "$special"
# fuzz_core (fuzz/corpus/core/): a kernel core of sleep with only the first
# page of its ELF mappings dumped (coredump_filter 0x10, ~60 KiB), the same
# with the preload snapshot's segment added as a mapping, and damaged
# variants of both (fuzz/core_seeds.py).  Needs core_pattern to write files
# into the current folder (the kernel's default "core").
out=$(cd "$(dirname "$0")" && pwd)/corpus/core
mkdir -p "$out"
tmp=$(mktemp -d)
(cd "$tmp" && bash -c 'echo 0x10 >/proc/self/coredump_filter; ulimit -c unlimited; exec sleep 100') &
pid=$!
sleep 0.5
kill -SEGV "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
core=$(ls "$tmp"/core* 2>/dev/null | head -1)
if [ -n "$core" ]; then
    /usr/bin/python3 "$(dirname "$0")/core_seeds.py" "$core" \
        "$(dirname "$0")/corpus/segment/preload.ptsnap" "$out"
    chmod 644 "$out"/*
    ls -l "$out"
else
    echo "make_corpus.sh: no kernel core appeared (core_pattern: $(cat /proc/sys/kernel/core_pattern)); fuzz/corpus/core not refreshed" >&2
fi
rm -rf "$tmp"
