# The ELF scanning path of `pooltag imports` (src/cli/elfdyn.c: dynamic
# symbols, relocations, versions, DT_NEEDED) over file images in memory,
# read with the system's libelf.
pkg_check_modules(FUZZ_ELF REQUIRED libelf)
pt_fuzz_target(fuzz_imports fuzz_imports.c ${PROJECT_SOURCE_DIR}/src/cli/elfdyn.c)
target_include_directories(fuzz_imports PRIVATE ${PROJECT_SOURCE_DIR}/src/cli
  ${FUZZ_ELF_INCLUDE_DIRS})
target_link_libraries(fuzz_imports PRIVATE ${FUZZ_ELF_LINK_LIBRARIES})
if(BUILD_TESTING)
  add_test(NAME fuzz_imports_seeds
    COMMAND fuzz_imports -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/imports)
endif()
