# The selector syntax of the special pool and fault injection
# (src/common/ptsel.c, in the instrumented reader library): fuzz_ptsel.c.
pt_fuzz_target(fuzz_ptsel fuzz_ptsel.c)
target_link_libraries(fuzz_ptsel PRIVATE ptread_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_ptsel_seeds
    COMMAND fuzz_ptsel -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/ptsel)
endif()
