# The counter-log reader of `pooltag trend` (src/lib/logread.c) with the
# verdicts and all three writers (src/lib/trendrep.c, trend_html.c), from
# the instrumented library.
pt_fuzz_target(fuzz_log fuzz_log.c)
target_link_libraries(fuzz_log PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_log_seeds
    COMMAND fuzz_log -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/log)
endif()
