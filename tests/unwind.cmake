# The own CFI unwinder (prototype, issue 11 item 2): src/runtime/unwind_cfi.c
# against libunwind's unw_backtrace (dlopened).  Always -O2
# -fomit-frame-pointer, whatever the build type: the point is to unwind
# code without frame pointers.  Not linked into libpooltag or the preload.
add_library(unwind_cfi_plugin MODULE ${CMAKE_CURRENT_SOURCE_DIR}/unwind_cfi_plugin.c)
target_compile_options(unwind_cfi_plugin PRIVATE -O2 -fomit-frame-pointer)
add_executable(test_unwind_cfi ${CMAKE_CURRENT_SOURCE_DIR}/test_unwind_cfi.c
  ${PROJECT_SOURCE_DIR}/src/runtime/unwind_cfi.c)
target_include_directories(test_unwind_cfi PRIVATE ${PROJECT_SOURCE_DIR}/src/runtime)
target_compile_options(test_unwind_cfi PRIVATE -O2 -fomit-frame-pointer)
target_link_libraries(test_unwind_cfi PRIVATE ${CMAKE_DL_LIBS})
add_test(NAME rt_unwind_cfi COMMAND test_unwind_cfi $<TARGET_FILE:unwind_cfi_plugin>)
set_tests_properties(rt_unwind_cfi PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)
