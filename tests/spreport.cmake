# The special pool's fault handler and reports (issue 12, item 2:
# src/runtime/spreport.c, pt_cfi_backtrace_ctx, the preload's sigaction and
# signal interposers).  sp_unit drives spreport.c directly (static runtime,
# a PROT_NONE page of its own, a block record of its own); sp_fixtures is
# the program with the real bugs, run under the special pool (the tests
# skip, 77, while the pool places no blocks).
add_executable(sp_unit ${CMAKE_CURRENT_SOURCE_DIR}/sp_unit.c)
target_link_libraries(sp_unit PRIVATE pooltag_static Threads::Threads)
target_include_directories(sp_unit PRIVATE ${PROJECT_SOURCE_DIR}/src/common
  ${PROJECT_SOURCE_DIR}/src/runtime ${MIMALLOC_INC})
target_compile_options(sp_unit PRIVATE -O1 -fno-omit-frame-pointer)
# Under a sanitizer (sp_unit.sh): ASan's own SIGSEGV/SIGBUS handlers off.
pt_shell_test(sp_unit sp_unit.sh 60)

# The bugs (tests/sp_fixtures.c): linked with libpooltag.so, run as is, and
# under the preload (whose pt_alloc then serves them).  -O1 with frame
# pointers and no inlining of the fx_* functions the reports must name.
add_executable(sp_fixtures ${CMAKE_CURRENT_SOURCE_DIR}/sp_fixtures.c)
target_link_libraries(sp_fixtures PRIVATE pooltag Threads::Threads)
target_compile_options(sp_fixtures PRIVATE -O1 -fno-omit-frame-pointer)
pt_shell_test(sp_bugs sp_bugs.sh 120)
pt_shell_test(sp_bugs_linked sp_bugs_linked.sh 120)
pt_shell_test(sp_ownhandler sp_ownhandler.sh 60)
pt_shell_test(sp_threads sp_threads.sh 60)
# They run the fixture under the preload: a sanitizer build's program
# cannot take it (its runtime must come first and owns malloc).
set_tests_properties(sp_bugs sp_ownhandler sp_threads PROPERTIES LABELS nosan)
