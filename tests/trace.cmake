# Stacks, hit tags and pool tracking in the runtime (issue 11): a fixture
# run under the preload that reads its own segment (tests/rt_trace.c).
# Uninstrumented like the other preload fixtures, so that it runs in the
# sanitizer build too.
add_executable(rt_trace ${CMAKE_CURRENT_SOURCE_DIR}/rt_trace.c
  ${PROJECT_SOURCE_DIR}/src/common/tagtext.c)
target_include_directories(rt_trace PRIVATE ${PROJECT_SOURCE_DIR}/include
  ${PROJECT_SOURCE_DIR}/src/common ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(rt_trace PRIVATE -O2 -fno-builtin)
set_target_properties(rt_trace PROPERTIES ENABLE_EXPORTS ON)
target_link_libraries(rt_trace PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
add_library(rt_trace_plug SHARED ${CMAKE_CURRENT_SOURCE_DIR}/rt_trace_plug.c)
target_compile_options(rt_trace_plug PRIVATE -O2 -fno-builtin)
foreach(t rt_trace rt_trace_plug)
  if(PT_SANITIZE)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endif()
endforeach()
foreach(m chains wrap toggle realloc verify fork)
  add_test(NAME rt_trace_${m} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rt_trace.sh ${m})
  set_tests_properties(rt_trace_${m} PROPERTIES TIMEOUT 300 ENVIRONMENT "${PT_TEST_ENV}"
    SKIP_RETURN_CODE 77)
endforeach()
# The benchmark runs (both sides the same preload: no numbers checked).
add_test(NAME trace_bench_quick COMMAND trace_bench --quick
  --base $<TARGET_FILE:pooltag_preload> --new $<TARGET_FILE:pooltag_preload>)
set_tests_properties(trace_bench_quick PROPERTIES TIMEOUT 300)
# The same through the linked library (instrumented in the sanitizer build).
add_executable(rt_trace_api ${CMAKE_CURRENT_SOURCE_DIR}/rt_trace_api.c)
target_link_libraries(rt_trace_api PRIVATE pooltag ${CMAKE_DL_LIBS})
target_include_directories(rt_trace_api PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/src/common)
set_target_properties(rt_trace_api PROPERTIES ENABLE_EXPORTS ON)
add_test(NAME rt_trace_api COMMAND rt_trace_api)
set_tests_properties(rt_trace_api PROPERTIES ENVIRONMENT "PT_HIT=ApiT;PT_VERIFY=rt_trace_api")
