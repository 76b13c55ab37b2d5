# The leak scanner (src/lib/leakscan.c) over in-memory process images
# (fuzz_leaks.c): segment header and site table, heap bytes with block
# headers, roots and a thread from the input.  Seeds: fuzz/corpus/leaks.
pt_fuzz_target(fuzz_leaks fuzz_leaks.c)
target_link_libraries(fuzz_leaks PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_leaks_seeds
    COMMAND fuzz_leaks -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/leaks)
endif()
