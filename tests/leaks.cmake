# `pooltag leaks` (issue 13, item 5): the fixtures leakfix (known dropped,
# cyclic, stack-, bss-, interior- and chain-held blocks) and cxxleak (C++
# objects of one class leaked), live and from gcore; real programs.
add_executable(leakfix fixtures/leakfix.c)
set_target_properties(leakfix PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_link_libraries(leakfix PRIVATE Threads::Threads)
target_compile_options(leakfix PRIVATE -O1 -fno-omit-frame-pointer)
add_executable(cxxleak fixtures/cxxleak.cc)
set_target_properties(cxxleak PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_compile_options(cxxleak PRIVATE -O1)
pt_shell_test(leaks_fixture leaks_fixture.sh 120)
pt_shell_test(leaks_preload leaks_preload.sh 120)
pt_shell_test(leaks_cxx leaks_cxx.sh 120)
pt_shell_test(leaks_real leaks_real.sh 240)
pt_shell_test(leaks_errors leaks_errors.sh 60)
# A sanitizer build's fixtures run on ASan's allocator (no glibc heap to
# scan) and carry its shadow memory, which gcore would dump.
set_tests_properties(leaks_fixture leaks_preload leaks_cxx leaks_errors PROPERTIES LABELS nosan)
