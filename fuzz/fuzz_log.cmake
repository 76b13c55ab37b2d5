# The counter-log reader of `pooltag trend` (src/cli/logread.c) with the
# verdicts and all three writers; the rest of the CLI it calls (util.c:
# tag database, globs, JSON strings) is compiled in too, the segment
# reader is linked as the library.
pkg_check_modules(FUZZ_SQLITE REQUIRED sqlite3)
pt_fuzz_target(fuzz_log fuzz_log.c
  ${PROJECT_SOURCE_DIR}/src/cli/logread.c
  ${PROJECT_SOURCE_DIR}/src/cli/verdict.c
  ${PROJECT_SOURCE_DIR}/src/cli/trend.c
  ${PROJECT_SOURCE_DIR}/src/cli/trend_html.c
  ${PROJECT_SOURCE_DIR}/src/cli/util.c)
target_include_directories(fuzz_log PRIVATE ${PROJECT_SOURCE_DIR}/src/cli
  ${FUZZ_SQLITE_INCLUDE_DIRS})
target_compile_definitions(fuzz_log PRIVATE PT_SRCDIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(fuzz_log PRIVATE ptread ${FUZZ_SQLITE_LINK_LIBRARIES} m)
if(BUILD_TESTING)
  add_test(NAME fuzz_log_seeds
    COMMAND fuzz_log -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/log)
endif()
