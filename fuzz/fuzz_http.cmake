# `pooltag serve`'s request path: the real handler in an MHD daemon without
# a listen socket, requests fed through a socketpair (fuzz_http.c).
pt_fuzz_target(fuzz_http fuzz_http.c)
target_link_libraries(fuzz_http PRIVATE ptlib_fuzz)
if(BUILD_TESTING)
  add_test(NAME fuzz_http_seeds
    COMMAND fuzz_http -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/http)
endif()
