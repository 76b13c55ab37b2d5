# Runtime unit tests (C, linked with libpooltag).
function(pt_c_test name)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.c)
  target_link_libraries(${name} PRIVATE pooltag Threads::Threads)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
endfunction()

pt_c_test(test_tags)
add_test(NAME rt_tags COMMAND test_tags)
pt_c_test(test_alloc)
add_test(NAME rt_alloc COMMAND test_alloc)
add_test(NAME rt_alloc_libc COMMAND test_alloc)
set_tests_properties(rt_alloc_libc PROPERTIES ENVIRONMENT "PT_BACKEND=libc")
pt_c_test(test_limits)
add_test(NAME rt_limits COMMAND test_limits)
set_tests_properties(rt_limits PROPERTIES ENVIRONMENT "PT_PAGED_MAX=1M;PT_NONPAGED_MAX=256K")
pt_c_test(test_fork)
add_test(NAME rt_fork COMMAND test_fork)
pt_c_test(test_threads)
# Threads racing to the first allocation initialise the runtime once.
pt_c_test(test_init_race)
# 1000 rounds; 300 in the sanitizer build, where a round (fork, 16 threads)
# costs 4x as much (55 s of CI for 1000 rounds).
if(PT_SANITIZE)
  set(pt_race_rounds 300)
else()
  set(pt_race_rounds 1000)
endif()
add_test(NAME rt_init_race COMMAND test_init_race ${pt_race_rounds})
set_tests_properties(rt_init_race PROPERTIES TIMEOUT 120)
foreach(n 2 4 8)
  add_test(NAME rt_threads_${n} COMMAND test_threads ${n} 1000000)
  set_tests_properties(rt_threads_${n} PROPERTIES TIMEOUT 300)
endforeach()
add_test(NAME rt_threads_libc COMMAND test_threads 4 300000)
set_tests_properties(rt_threads_libc PROPERTIES ENVIRONMENT "PT_BACKEND=libc")
# More threads than private shards: the rest share shard 0 (atomic adds).
add_test(NAME rt_threads_shared_shard COMMAND test_threads 8 200000)
set_tests_properties(rt_threads_shared_shard PROPERTIES ENVIRONMENT "PT_MAX_THREADS=2")
# A full tag table: new tags land in the overflow entry, nothing is lost.
pt_c_test(test_overflow)
add_test(NAME rt_overflow COMMAND test_overflow)
set_tests_properties(rt_overflow PROPERTIES ENVIRONMENT "PT_MAX_TAGS=16")

add_executable(rt_errors ${CMAKE_CURRENT_SOURCE_DIR}/rt_errors.c)
target_link_libraries(rt_errors PRIVATE pooltag)
pt_shell_test(rt_errors test_errors.sh 60)

pt_shell_test(install install.sh 120)
# Links an uninstrumented program against the library: not for sanitizer builds.
set_tests_properties(install PROPERTIES LABELS nosan)

# Regression tests from the runtime review.
pt_c_test(test_rt_review_fold)
add_test(NAME rt_review_fold COMMAND test_rt_review_fold)
set_tests_properties(rt_review_fold PROPERTIES ENVIRONMENT "PT_MAX_THREADS=4" TIMEOUT 120)
pt_c_test(test_rt_review_exit)
add_test(NAME rt_review_exit COMMAND test_rt_review_exit)
add_test(NAME rt_review_exit_shared COMMAND test_rt_review_exit)
set_tests_properties(rt_review_exit_shared PROPERTIES ENVIRONMENT "PT_MAX_THREADS=1")
pt_c_test(test_rt_review_realloc)
add_test(NAME rt_review_realloc COMMAND test_rt_review_realloc)

# Contracts (PT_CONTRACTS): caught when compiled in, absent when not.
add_executable(test_contracts ${CMAKE_CURRENT_SOURCE_DIR}/test_contracts.c)
target_link_libraries(test_contracts PRIVATE pooltag_static Threads::Threads)
target_include_directories(test_contracts PRIVATE ${PROJECT_SOURCE_DIR}/src/common)
add_test(NAME rt_contracts COMMAND test_contracts)
