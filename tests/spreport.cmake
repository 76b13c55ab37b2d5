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
pt_shell_test(sp_unit sp_unit.sh 60)
