# `pooltag find`'s ELF path: the tag scan and the libelf naming of hits
# (src/lib/elfscan.c) on arbitrary images (fuzz_find.c).
pt_fuzz_target(fuzz_find fuzz_find.c)
target_link_libraries(fuzz_find PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_find_seeds
    COMMAND fuzz_find -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/find)
endif()
