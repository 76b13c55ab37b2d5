# Reader library tests: the segment parser and the snapshot format on
# images built in memory (no runtime needed).  In the PT_SANITIZE build they
# run under ASan+UBSan like everything else.
add_executable(test_reader_parse ${CMAKE_CURRENT_SOURCE_DIR}/test_reader_parse.c)
target_link_libraries(test_reader_parse PRIVATE ptread)
target_include_directories(test_reader_parse PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME reader_parse COMMAND test_reader_parse)
set_tests_properties(reader_parse PROPERTIES TIMEOUT 120)

# Live reading against a running notmyfault through each of the three ways
# (memfd descriptor, map_files, /proc/PID/mem) and the consistency of
# repeated readings; exit 77 when notmyfault is not built.
pt_shell_test(reader_live test_reader_live.sh 90)

# Consistency while shards are folded: a child whose threads keep exiting,
# read through the reader library as fast as possible (seqlock retry).
add_executable(test_reader_churn ${CMAKE_CURRENT_SOURCE_DIR}/test_reader_churn.c)
target_link_libraries(test_reader_churn PRIVATE ptread pooltag Threads::Threads)
target_include_directories(test_reader_churn PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME reader_fold COMMAND test_reader_churn)
set_tests_properties(reader_fold PROPERTIES TIMEOUT 60)

# The /proc/PID reader (src/reader/procfs.c): crafted stat, status and maps
# lines, and our own /proc/self (renamed, a mapped file with spaces in its
# name then deleted, a memfd named like the segment, a zombie child).
add_executable(test_procfs ${CMAKE_CURRENT_SOURCE_DIR}/test_procfs.c)
target_link_libraries(test_procfs PRIVATE ptread)
target_include_directories(test_procfs PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME reader_procfs COMMAND test_procfs)
set_tests_properties(reader_procfs PROPERTIES TIMEOUT 60)

# Age epochs (issue 15): live bytes and blocks per site and epoch are exact
# across epoch changes, threads that exit, and frees of old blocks by other
# threads; read by the program itself through the reader library.
add_executable(test_ages ${CMAKE_CURRENT_SOURCE_DIR}/test_ages.c)
target_link_libraries(test_ages PRIVATE ptread pooltag Threads::Threads)
target_include_directories(test_ages PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME rt_ages COMMAND test_ages)
set_tests_properties(rt_ages PROPERTIES TIMEOUT 60)
# The same with every allocation in the special pool (its blocks have no
# header to stamp: their epoch is kept in the pool's records), and with one
# shard only (the other threads count through shard 0).
add_test(NAME rt_ages_sampled COMMAND test_ages)
set_tests_properties(rt_ages_sampled PROPERTIES TIMEOUT 60 ENVIRONMENT "PT_SAMPLE_GUARD=1")
add_test(NAME rt_ages_shared COMMAND test_ages)
set_tests_properties(rt_ages_shared PROPERTIES TIMEOUT 60
  ENVIRONMENT "PT_MAX_THREADS=1;PT_SAMPLE_GUARD=1")
