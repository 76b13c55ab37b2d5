# `pooltag find`'s ELF path: the tag scan and the libelf naming of hits
# (src/cli/elfscan.c) on arbitrary images (fuzz_find.c).
find_package(PkgConfig REQUIRED)
pkg_check_modules(ELF_FUZZ REQUIRED libelf)
pt_fuzz_target(fuzz_find fuzz_find.c ${PROJECT_SOURCE_DIR}/src/cli/elfscan.c)
target_include_directories(fuzz_find PRIVATE ${PROJECT_SOURCE_DIR}/src/cli
  ${ELF_FUZZ_INCLUDE_DIRS})
target_link_libraries(fuzz_find PRIVATE ${ELF_FUZZ_LINK_LIBRARIES})
if(BUILD_TESTING)
  add_test(NAME fuzz_find_seeds
    COMMAND fuzz_find -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/find)
endif()
