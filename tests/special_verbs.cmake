# pooltag special and run's special pool flags (issue 12): the reader of
# the special page, block records and reports (src/reader/special.c), the
# verb on hv_segment --special (a segment with known contents, as a file
# or live), and end to end with the real runtime (spv_live: skipped while
# the runtime has no special pool).
pt_shell_test(spv_show spv_show.sh 60)
pt_shell_test(spv_change spv_change.sh 60)
pt_shell_test(spv_errors spv_errors.sh 60)
pt_shell_test(spv_perm spv_perm.sh 60)

# End to end with the real runtime (the linked library): a program that
# allocates tag Ovr1 in a loop, escalated live from counters to hit to
# special pool to a caught overrun, never restarted.
add_executable(spv_host ${CMAKE_CURRENT_SOURCE_DIR}/spv_host.c)
target_link_libraries(spv_host PRIVATE pooltag)
# file:line and function names for its frames; no inlining of them.
target_compile_options(spv_host PRIVATE -g -O1 -fno-omit-frame-pointer)
set_target_properties(spv_host PROPERTIES ENABLE_EXPORTS ON)
pt_shell_test(spv_live spv_live.sh 90)
pt_shell_test(spv_run spv_run.sh 60)
