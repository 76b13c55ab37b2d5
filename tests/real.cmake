# Real programs under libpooltag-preload.so (issue 3 item 5): python3's
# regression tests, redis-server, git, sqlite3, g++, each run plain and under
# the preload and compared (tests/real_*.sh, helpers in tests/real_lib.sh);
# `pooltag used` on a live redis-server; a smoke run of
# bench/real_bench.sh --quick.  See docs/real-programs.md.
# Each exits 77 (skipped) while the preload is not built, or when it could
# not prove that the preload ran (no PT_EXIT_REPORT file).  Label `real`;
# also `nosan`: a sanitizer build's runtime is not meant to be preloaded into
# other programs.
set(PT_REAL_TESTS
  # name            script              timeout (s)
  real_sqlite       real_sqlite.sh      300
  real_gxx          real_gxx.sh         600
  real_git          real_git.sh         300
  real_redis        real_redis.sh       300
  real_redis_used   real_redis_used.sh  120
  real_python       real_python.sh      1200
  real_bench_quick  real_bench_quick.sh 600
  # The same runs started by `pooltag run --follow-children --` instead of
  # LD_PRELOAD (PT_REAL_VIA=run).
  real_sqlite_run   real_sqlite.sh      300
  real_git_run      real_git.sh         300
  # Call stacks of real programs (issue 11): pool tracking of libsqlite3
  # in sqlite3, `pooltag hit` on a live redis-server and python3; skipped
  # (77) while `pooltag hit` / `pooltag verify` are not built.
  real_trace_sqlite real_trace_sqlite.sh 300
  real_trace_redis  real_trace_redis.sh  300
  real_trace_python real_trace_python.sh 180
  # The special pool (issue 12): sqlite3, python3 and git with one of
  # their modules' blocks in guard pages, output identical.
  real_special      real_special.sh      300)
list(LENGTH PT_REAL_TESTS n)
math(EXPR last "${n} - 1")
foreach(i RANGE 0 ${last} 3)
  math(EXPR j "${i} + 1")
  math(EXPR k "${i} + 2")
  list(GET PT_REAL_TESTS ${i} name)
  list(GET PT_REAL_TESTS ${j} script)
  list(GET PT_REAL_TESTS ${k} timeout)
  pt_shell_test(${name} ${script} ${timeout})
  set_tests_properties(${name} PROPERTIES LABELS "real;nosan")
endforeach()
set_property(TEST real_sqlite_run real_git_run APPEND PROPERTY ENVIRONMENT "PT_REAL_VIA=run")
# Timing-sensitive or heavy (two redis servers in turn, test_threading,
# the benchmark): never at the same time as each other.
set_tests_properties(real_redis real_redis_used real_python real_bench_quick
  PROPERTIES RESOURCE_LOCK pt_real_heavy)
