# `pooltag serve`'s request path: the real handler in an MHD daemon without
# a listen socket, requests fed through a socketpair (fuzz_http.c).
find_package(PkgConfig REQUIRED)
pkg_check_modules(MHD_FUZZ REQUIRED libmicrohttpd)
pt_fuzz_target(fuzz_http fuzz_http.c
  ${PROJECT_SOURCE_DIR}/src/cli/serve_http.c
  ${PROJECT_SOURCE_DIR}/src/cli/serve_metrics.c
  ${PROJECT_SOURCE_DIR}/src/common/tagtext.c)
target_include_directories(fuzz_http PRIVATE ${PROJECT_SOURCE_DIR}/src/cli
  ${MHD_FUZZ_INCLUDE_DIRS})
target_link_libraries(fuzz_http PRIVATE ${MHD_FUZZ_LINK_LIBRARIES})
if(BUILD_TESTING)
  add_test(NAME fuzz_http_seeds
    COMMAND fuzz_http -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/http)
endif()
