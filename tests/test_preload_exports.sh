#!/usr/bin/env bash
# The preload must change nothing of the program but its allocator: it
# exports only the functions it interposes and pooltag's own API (pt_*),
# and brings in no library but libc and the allocator backend (mimalloc).
# A dependency such as libunwind.so.8 would put its own _Unwind_* (the GCC
# unwinding ABI) in the place of libgcc_s's for the whole program.
# libpooltag.so: pt_* only, the same dependencies.  Allow-lists: a new
# export or dependency must be added here on purpose.
set -u
P="$PT_BUILD/src/preload/libpooltag-preload.so"
L="$PT_BUILD/src/runtime/libpooltag.so"
fail=0
# The C allocator and the wrappers that allocate for their caller, the C++
# operators (mangled), and glibc's malloc-introspection calls.
allowed_preload='^(malloc|free|cfree|calloc|realloc|reallocarray|aligned_alloc|memalign|posix_memalign|valloc|pvalloc|malloc_usable_size|mallinfo|mallinfo2|malloc_stats|malloc_info|malloc_trim|mallopt|strdup|strndup|__strdup|__strndup|wcsdup|asprintf|vasprintf|getline|getdelim|realpath|canonicalize_file_name|open_memstream|dlclose|sigaction|signal|bsd_signal|ssignal|sysv_signal|__sysv_signal|_Znwm.*|_Znam.*|_ZdlPv.*|_ZdaPv.*|pt_[A-Za-z0-9_]+)$'
allowed_lib='^pt_[A-Za-z0-9_]+$'
allowed_needed='^(libc\.so\.6|ld-linux-x86-64\.so\.2|linux-vdso\.so\.1|libmimalloc\.so\.2)$'
# A sanitizer build (CC=clang, the C++ file compiled by g++) links g++'s
# implicit libraries into the preload too; libgcc_s is the system unwinder
# itself (it may define the unwinding ABI: it is the one the program uses).
if [ "${PT_SANITIZE_BUILD:-0}" = 1 ]; then
  allowed_needed='^(libc\.so\.6|ld-linux-x86-64\.so\.2|linux-vdso\.so\.1|libmimalloc\.so\.2|libstdc\+\+\.so\.6|libm\.so\.6|libgcc_s\.so\.1)$'
fi

exports() { nm -D --defined-only "$1" | awk '{print $NF}' | sed 's/@.*//' | sort -u; }
# Every library the object brings into a process (the closure, from ldd).
closure() { ldd "$1" | awk '{print ($2 == "=>") ? $3 : $1}'; }

check() { # name file allowed-exports-regex
  local name=$1 f=$2 re=$3 bad
  [ -f "$f" ] || { echo "FAIL $name: $f missing"; fail=1; return; }
  bad=$(exports "$f" | grep -Ev "$re")
  if [ -n "$bad" ]; then
    echo "FAIL $name exports symbols outside the allow-list:"; echo "$bad" | head -20; fail=1
  else echo "ok   $name: exports"; fi
  bad=$(closure "$f" | while read -r lib; do
          b=$(basename "$lib"); grep -Eq "$allowed_needed" <<<"$b" || echo "$lib"; done)
  if [ -n "$bad" ]; then
    echo "FAIL $name brings in libraries outside the allow-list:"; echo "$bad"; fail=1
  else echo "ok   $name: dependencies"; fi
  # No library of the closure but libgcc_s may define the unwinding ABI, and
  # none libunwind's API.
  bad=$(closure "$f" | while read -r lib; do
          [ -f "$lib" ] || continue
          [ "$(basename "$lib")" = libgcc_s.so.1 ] && continue
          exports "$lib" | grep -E '^(_Unwind_|__gcc_personality|unw_|_U[A-Za-z0-9]*_)' | sed "s|^|$lib: |"
        done | head -5)
  if [ -n "$bad" ]; then
    echo "FAIL $name: the unwinding ABI comes with it:"; echo "$bad"; fail=1
  else echo "ok   $name: no unwinder symbols"; fi
}
check preload "$P" "$allowed_preload"
check libpooltag "$L" "$allowed_lib"
exit $fail
