# The dump walkthrough's service (issue 13, docs/dumps.md), built beside
# the other fixtures ($PT_FIXTURES): libuseheap.so keeps its own mmapped
# heap in the global blob_heap; useheap_svc does malloc traffic in three
# threads.  Not linked with pooltag (pooltag run tags it).
pt_fixture_lib(useheap fixtures/libuseheap.c)
add_executable(useheap_svc fixtures/useheap_svc.c)
set_target_properties(useheap_svc PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_link_libraries(useheap_svc PRIVATE useheap Threads::Threads)
# Plain code in the sanitizer build too: an ASan process maps terabytes of
# shadow, which is no service to read (the verbs reading it are checked).
if(PT_SANITIZE)
  foreach(t useheap useheap_svc)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endforeach()
endif()

# `pooltag address` (tests/address_*.sh).
pt_shell_test(address_live address_live.sh 120)
pt_shell_test(address_errors address_errors.sh 60)
pt_shell_test(address_core address_core.sh 300)
pt_shell_test(address_pools address_pools.sh 60)
# The classifier's rules on process images built in memory.
add_executable(test_pregions ${CMAKE_CURRENT_SOURCE_DIR}/test_pregions.c)
target_link_libraries(test_pregions PRIVATE ptlib)
target_include_directories(test_pregions PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME address_classify COMMAND test_pregions)
