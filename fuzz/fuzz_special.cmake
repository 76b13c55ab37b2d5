# The reader of the special pool (src/reader/special.c: the settings page,
# block records, reports), from the instrumented reader (fuzz_special.c).
# Seeds: tests/hv_segment --special and its damaged variants
# (fuzz/make_corpus.sh).
pt_fuzz_target(fuzz_special fuzz_special.c)
target_link_libraries(fuzz_special PRIVATE ptread_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_special_seeds
    COMMAND fuzz_special -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/special)
endif()
