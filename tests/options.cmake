# The options table (src/common/options.def) and the one size parser
# (src/common/sizeparse.c): unit test, and the runtime's view of the table
# under the preload.  tests/docs_env.sh (cli.cmake) checks the docs against
# the table.
add_executable(test_options ${CMAKE_CURRENT_SOURCE_DIR}/test_options.c)
target_link_libraries(test_options PRIVATE ptread)
target_include_directories(test_options PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/src/common)
add_test(NAME options_unit COMMAND test_options)
pt_shell_test(options_env options_env.sh 60)

# The selector syntax of the special pool and fault injection
# (src/common/ptsel.c).
add_executable(test_ptsel ${CMAKE_CURRENT_SOURCE_DIR}/test_ptsel.c)
target_link_libraries(test_ptsel PRIVATE ptread)
target_include_directories(test_ptsel PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/src/common)
add_test(NAME ptsel_unit COMMAND test_ptsel)
