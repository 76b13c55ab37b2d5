# `pooltag heap` (issue 13, item 3): glibc's heap read from outside, checked
# against mallinfo2() from inside the same process (heapfix), live and from
# gcore; --stat and --size against the fixture's own block list; a core
# with a damaged chunk header; a real program (python3); bad input.
add_executable(heapfix ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/heapfix.c)
target_link_libraries(heapfix PRIVATE Threads::Threads)
set_target_properties(heapfix PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
pt_shell_test(heap_fix heap_fix.sh 180)
pt_shell_test(heap_corrupt heap_corrupt.sh 120)
pt_shell_test(heap_real heap_real.sh 120)
pt_shell_test(heap_errors heap_errors.sh 60)
# gcore of a sanitizer build's process dumps ASan's shadow (see core.cmake);
# heapfix itself is not instrumented, but the python3 of heap_real is
# read by an instrumented pooltag, which is fine: only gcore is the issue.
set_tests_properties(heap_fix heap_corrupt PROPERTIES LABELS nosan)
add_executable(test_gheap ${CMAKE_CURRENT_SOURCE_DIR}/test_gheap.c)
target_link_libraries(test_gheap PRIVATE ptlib)
pt_shell_test(heap_signature heap_signature.sh 60)
set_tests_properties(heap_signature PROPERTIES LABELS nosan)
pt_shell_test(heap_tagged heap_tagged.sh 60)
pt_shell_test(heap_grow heap_grow.sh 120)
set_tests_properties(heap_tagged PROPERTIES LABELS nosan)
set_tests_properties(heap_grow PROPERTIES LABELS nosan)
