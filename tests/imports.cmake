# `pooltag imports` on the issue 5 fixtures (tests/fixtures.cmake).
pt_shell_test(imports_fixture imports_fixture.sh 60)
pt_shell_test(imports_errors imports_errors.sh 60)
# A non-PIE program whose PLT entry is free's address for a library's
# GLOB_DAT slot ("canonical"); kept out of $PT_FIXTURES, whose files other
# tests count.
add_library(fx_imports_gd SHARED fixtures/fx_imports_gd.c)
set_target_properties(fx_imports_gd PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/imports_nopie C_VISIBILITY_PRESET hidden)
add_executable(fx_imports_nopie fixtures/fx_imports_nopie.c)
set_target_properties(fx_imports_nopie PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/imports_nopie POSITION_INDEPENDENT_CODE OFF)
target_compile_options(fx_imports_nopie PRIVATE -fno-pie)
target_link_options(fx_imports_nopie PRIVATE -no-pie)
target_link_libraries(fx_imports_nopie PRIVATE fx_imports_gd)
pt_shell_test(imports_canonical imports_canonical.sh 60)
# A sanitizer build's program defines free itself (the interceptor).
set_tests_properties(imports_canonical PROPERTIES LABELS nosan)
pt_shell_test(imports_nothing imports_nothing.sh 60)
