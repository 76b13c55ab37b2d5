# The reader's /proc line parsers (src/reader/procfs.c: stat, status, maps
# lines and text), from the instrumented reader (fuzz_procfs.c).
pt_fuzz_target(fuzz_procfs fuzz_procfs.c)
target_link_libraries(fuzz_procfs PRIVATE ptread_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_procfs_seeds
    COMMAND fuzz_procfs -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/procfs)
endif()
