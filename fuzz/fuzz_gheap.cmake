# The glibc heap walker (src/lib/gheap.c) over arbitrary memory images
# (fuzz_gheap.c).  Seeds: libc's data, the brk heap and a thread arena cut
# from a gcore of tests/heapfix (fuzz/gheap_seeds.py), and damaged variants.
pt_fuzz_target(fuzz_gheap fuzz_gheap.c)
target_include_directories(fuzz_gheap PRIVATE ${PROJECT_SOURCE_DIR}/src/lib)
target_link_libraries(fuzz_gheap PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_gheap_seeds
    COMMAND fuzz_gheap -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/gheap)
endif()
