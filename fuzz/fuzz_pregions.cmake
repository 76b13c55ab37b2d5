# The region classifier of `pooltag address` and `search --in`
# (src/lib/pregions.c) on arbitrary process images (fuzz_pregions.c).
pt_fuzz_target(fuzz_pregions fuzz_pregions.c)
target_link_libraries(fuzz_pregions PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_pregions_seeds
    COMMAND fuzz_pregions -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/pregions)
endif()
