# Core files as a source (issue 13): gcore and kernel cores of a tagged
# fixture that stands still (core_fx) read by the pim core backend
# (test_pimg: regions, bytes, threads and modules against the live process)
# and by the report verbs (used, vm, sites, lm, ln against their live
# output); cores whose library changed since (ln warns); bad input (a
# truncated core, another architecture's, ELF files that are not cores, a
# snapshot, an untagged core), each one line and exit 2.
add_executable(core_fx ${CMAKE_CURRENT_SOURCE_DIR}/core_fx.c)
target_link_libraries(core_fx PRIVATE pooltag Threads::Threads ${CMAKE_DL_LIBS})
add_executable(test_pimg ${CMAKE_CURRENT_SOURCE_DIR}/test_pimg.c)
target_link_libraries(test_pimg PRIVATE ptread)
pt_shell_test(core_gcore core_gcore.sh 180)
pt_shell_test(core_kernel core_kernel.sh 120)
pt_shell_test(core_changed core_changed.sh 120)
pt_shell_test(core_errors core_errors.sh 120)
# A sanitizer build's core_fx carries ASan, whose shadow memory gcore would
# dump (terabytes of address space) and which turns kernel cores off.
set_tests_properties(core_gcore core_kernel core_changed PROPERTIES LABELS nosan)
