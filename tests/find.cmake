# `pooltag find` (issue 5 part 1): where a tag's bytes occur in files,
# directories and a live process's modules.  Shell tests (find_*.sh) over
# the issue-5 fixtures ($PT_FIXTURES) and demo/notmyfault.
#
# libfx_tagtwo.so once more, always optimised, in its own directory
# ($PT_FIND_FIXTURES): clang -O0 (the ASan build) does not fold
# PT_TAG("FxTw") into an immediate operand but loads it from a string in
# .rodata, so the shared fixture has no code hit there.  This copy keeps
# the code-hit checks meaningful in every build.
set(PT_FIND_FIXTURES ${PROJECT_BINARY_DIR}/tests/find-fixtures)
add_library(fx_find_tagtwo SHARED fixtures/fx_tagtwo.c)
set_target_properties(fx_find_tagtwo PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${PT_FIND_FIXTURES} C_VISIBILITY_PRESET hidden)
target_compile_options(fx_find_tagtwo PRIVATE -O2)
target_link_libraries(fx_find_tagtwo PRIVATE pooltag)
list(APPEND PT_TEST_ENV "PT_FIND_FIXTURES=${PT_FIND_FIXTURES}")

pt_shell_test(find_fixture find_fixture.sh 60)
pt_shell_test(find_live find_live.sh 60)
pt_shell_test(find_errors find_errors.sh 60)
