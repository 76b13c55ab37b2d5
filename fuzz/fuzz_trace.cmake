# The reader of the trace regions (src/reader/trace.c: control block, stack
# table, rings, verify statistics, tracked blocks, leak reports), from the
# instrumented reader (fuzz_trace.c).  Seeds: tests/hv_segment's fixture
# and its damaged variants (fuzz/make_corpus.sh).
pt_fuzz_target(fuzz_trace fuzz_trace.c)
target_link_libraries(fuzz_trace PRIVATE ptread_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_trace_seeds
    COMMAND fuzz_trace -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/trace)
endif()
