# The ELF scanning path of `pooltag imports` (src/lib/elfdyn.c: dynamic
# symbols, relocations, versions, DT_NEEDED) over file images in memory,
# read with the system's libelf.
pt_fuzz_target(fuzz_imports fuzz_imports.c)
target_link_libraries(fuzz_imports PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_imports_seeds
    COMMAND fuzz_imports -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/imports)
endif()
