#!/usr/bin/env bash
# Installs every Debian 12 package that pooltag's build, demo and tests need.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libmimalloc-dev libunwind8 libelf-dev libdw-dev
  libncurses-dev libsqlite3-dev libmicrohttpd-dev
  tmux procps sqlite3 gdb python3 cppcheck
  # Real programs run under the preload (tests/real_*.sh, bench/real_bench.sh).
  redis-server redis-tools libpython3.11-testsuite g++ git time
  # `pooltag serve` is tested against a real Prometheus; the HTML report and
  # the dashboard in headless Chromium.
  prometheus chromium fonts-dejavu-core
  # The peers of bench/stacks_bench.sh (call stacks against heaptrack and
  # valgrind memcheck).
  heaptrack valgrind
  # The peers of bench/special_bench.sh (the special pool against
  # electric-fence and DUMA).
  electric-fence duma
  # The dump verbs (issue 13): glibc's debug symbols name main_arena and mp_
  # for `pooltag heap` and `leaks` (without them the arena is found by its
  # shape); setpriv (util-linux) runs the ptrace-rule tests as another user.
  libc6-dbg util-linux
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 2
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps.sh: installing ${missing[*]}"
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
