# The special pool in the runtime (issue 12): tests/rt_special.c, once
# through the linked library (pt_alloc, tag Spc1; instrumented in the
# sanitizer build) and once under the preload (the malloc family,
# PT_SPECIAL=module:rt_special_pl; uninstrumented, nosan).
add_executable(rt_special ${CMAKE_CURRENT_SOURCE_DIR}/rt_special.c)
target_link_libraries(rt_special PRIVATE pooltag Threads::Threads)
target_include_directories(rt_special PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/src/common)
add_executable(rt_special_pl ${CMAKE_CURRENT_SOURCE_DIR}/rt_special.c)
target_compile_definitions(rt_special_pl PRIVATE PL)
target_compile_options(rt_special_pl PRIVATE -O2 -fno-builtin)
target_link_libraries(rt_special_pl PRIVATE Threads::Threads)
target_include_directories(rt_special_pl PRIVATE ${PROJECT_SOURCE_DIR}/include
  ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/src/common)
if(PT_SANITIZE)
  target_compile_options(rt_special_pl PRIVATE -fno-sanitize=all)
  target_link_options(rt_special_pl PRIVATE -fno-sanitize=all)
endif()

# pt_special_test(MODE ENV...): rt_special_MODE and rt_special_pl_MODE
function(pt_special_test mode)
  set(env ${ARGN})
  add_test(NAME rt_special_${mode} COMMAND rt_special ${mode})
  set_tests_properties(rt_special_${mode} PROPERTIES TIMEOUT 120
    ENVIRONMENT "PT_SPECIAL=Spc1;${env}")
  add_test(NAME rt_special_pl_${mode} COMMAND env
    LD_PRELOAD=$<TARGET_FILE:pooltag_preload> $<TARGET_FILE:rt_special_pl> ${mode})
  set_tests_properties(rt_special_pl_${mode} PROPERTIES TIMEOUT 120 LABELS nosan
    ENVIRONMENT "PT_SPECIAL=module:rt_special_pl;${env}")
endfunction()
pt_special_test(layout)
pt_special_test(exact PT_SPECIAL_EXACT=1)
pt_special_test(underrun PT_SPECIAL_UNDERRUN=1)
pt_special_test(slop)
pt_special_test(double)
pt_special_test(interior)
pt_special_test(uaf)
pt_special_test(quarantine PT_QUARANTINE=8)
pt_special_test(aligned)
pt_special_test(realloc)
pt_special_test(calloc PT_QUARANTINE=0 PT_SPECIAL_MAX_PAGES=16)
pt_special_test(threads PT_SPECIAL_MAX_PAGES=65536)
pt_special_test(full PT_QUARANTINE=0 PT_SPECIAL_MAX_PAGES=16)
pt_special_test(toggle)
pt_special_test(fork)
# sampling: no selector, about 1 in 100 of every allocation
add_test(NAME rt_special_sample COMMAND rt_special sample)
set_tests_properties(rt_special_sample PROPERTIES TIMEOUT 120
  ENVIRONMENT "PT_SAMPLE_GUARD=100")
add_test(NAME rt_special_pl_sample COMMAND env
  LD_PRELOAD=$<TARGET_FILE:pooltag_preload> $<TARGET_FILE:rt_special_pl> sample)
set_tests_properties(rt_special_pl_sample PROPERTIES TIMEOUT 120 LABELS nosan
  ENVIRONMENT "PT_SAMPLE_GUARD=100")
# hit and the special pool on one tag (the library only)
add_test(NAME rt_special_hit COMMAND rt_special hit)
set_tests_properties(rt_special_hit PROPERTIES TIMEOUT 120
  ENVIRONMENT "PT_SPECIAL=Spc1;PT_HIT=Spc1")
