#!/usr/bin/env bash
# trace_bench.sh [BASE_REF] [trace_bench options...]
# Builds libpooltag-preload.so at BASE_REF (default i11-base, the branch
# point of issue 11) in /tmp/pooltag-base-REF (once), then runs
# build/bench/trace_bench with it as --base and this tree's preload as --new.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:-i11-base}; [ $# -gt 0 ] && shift
base=/tmp/pooltag-base-$(echo "$ref" | tr '/' '_')
if [ ! -f "$base/build/src/preload/libpooltag-preload.so" ]; then
  rm -rf "$base"; mkdir -p "$base"
  git -C "$here" archive "$ref" | tar -x -C "$base"
  cmake -S "$base" -B "$base/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$base/build" --target pooltag_preload -j2 >/dev/null
fi
cmake --build "$here/build" --target pooltag_preload trace_bench -j2 >/dev/null
exec "$here/build/bench/trace_bench" --base "$base/build/src/preload/libpooltag-preload.so" \
  --new "$here/build/src/preload/libpooltag-preload.so" "$@"
