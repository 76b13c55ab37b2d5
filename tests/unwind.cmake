# The own CFI unwinder (issue 11: src/runtime/unwind_cfi.c), tested on its
# own: rt_unwind_cfi against libunwind's unw_backtrace (dlopened) and
# against recorded return addresses (signal frames, sigaltstack, PLT,
# corrupt .eh_frame, dlclose + forget, user stacks, coroutines, no
# allocation); rt_unwind_cfi_mt under 8 threads.  Always -O2
# -fomit-frame-pointer, whatever the build type: the point is to unwind
# code without frame pointers.
foreach(v 0 1 2)
  if(v EQUAL 0)
    set(plug unwind_cfi_plugin)
  else()
    set(plug unwind_cfi_plugin${v})
  endif()
  add_library(${plug} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/unwind_cfi_plugin.c)
  target_compile_options(${plug} PRIVATE -O2 -fomit-frame-pointer)
  target_compile_definitions(${plug} PRIVATE VARIANT=${v})
endforeach()
add_executable(test_unwind_cfi ${CMAKE_CURRENT_SOURCE_DIR}/test_unwind_cfi.c
  ${PROJECT_SOURCE_DIR}/src/runtime/unwind_cfi.c)
target_include_directories(test_unwind_cfi PRIVATE ${PROJECT_SOURCE_DIR}/src/runtime)
target_compile_options(test_unwind_cfi PRIVATE -O2 -fomit-frame-pointer)
target_link_libraries(test_unwind_cfi PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
add_test(NAME rt_unwind_cfi COMMAND test_unwind_cfi $<TARGET_FILE:unwind_cfi_plugin>
  $<TARGET_FILE:unwind_cfi_plugin1> $<TARGET_FILE:unwind_cfi_plugin2>)
set_tests_properties(rt_unwind_cfi PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 60)

# The same under concurrency: 8 threads, 512 call sites, a flusher.
add_executable(test_unwind_cfi_mt ${CMAKE_CURRENT_SOURCE_DIR}/test_unwind_cfi_mt.c
  ${PROJECT_SOURCE_DIR}/src/runtime/unwind_cfi.c)
target_include_directories(test_unwind_cfi_mt PRIVATE ${PROJECT_SOURCE_DIR}/src/runtime)
# (gcc aligns call sites to 16 bytes: fewer distinct slots; clang does not)
target_compile_options(test_unwind_cfi_mt PRIVATE -O2 -fomit-frame-pointer
  $<$<C_COMPILER_ID:GNU>:-falign-jumps=1 -falign-labels=1 -falign-functions=1>)
# pages mixed into the slot index: the test's code is a few pages, whose PCs
# the production hash spreads without a collision
target_compile_definitions(test_unwind_cfi_mt PRIVATE PT_CFI_SLOT_MIX=0x9E3779B1u)
target_link_libraries(test_unwind_cfi_mt PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
add_test(NAME rt_unwind_cfi_mt COMMAND test_unwind_cfi_mt)
set_tests_properties(rt_unwind_cfi_mt PROPERTIES TIMEOUT 120)

# Inside the malloc of real programs (LD_PRELOAD): own walk = unw_backtrace.
add_library(unwind_cfi_preload MODULE ${CMAKE_CURRENT_SOURCE_DIR}/unwind_cfi_preload.c
  ${PROJECT_SOURCE_DIR}/src/runtime/unwind_cfi.c)
target_include_directories(unwind_cfi_preload PRIVATE ${PROJECT_SOURCE_DIR}/src/runtime)
target_compile_options(unwind_cfi_preload PRIVATE -O2 -fomit-frame-pointer)
target_link_libraries(unwind_cfi_preload PRIVATE ${CMAKE_DL_LIBS})
if(PT_SANITIZE) # preloaded into programs built without sanitizers
  target_compile_options(unwind_cfi_preload PRIVATE -fno-sanitize=all)
  target_link_options(unwind_cfi_preload PRIVATE -fno-sanitize=all)
endif()
pt_shell_test(rt_unwind_real test_unwind_real.sh 180)
