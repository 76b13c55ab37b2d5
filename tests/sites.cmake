# `pooltag sites` (call sites of a tag, symbolized with elfutils).
# sites_fixture allocates tag 'Site' from known functions; it is built with
# debuginfo whatever the build type, since the tests expect file:line.
add_executable(sites_fixture ${CMAKE_CURRENT_SOURCE_DIR}/sites_fixture.c)
target_link_libraries(sites_fixture PRIVATE pooltag)
target_compile_options(sites_fixture PRIVATE -g)

# The symbolizer on its own process: functions of a PIE test program and of
# libc named through /proc/self/maps, bias computed by libdwfl.
add_executable(sites_symtest ${CMAKE_CURRENT_SOURCE_DIR}/sites_symtest.c)
target_include_directories(sites_symtest PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(sites_symtest PRIVATE ptlib)
target_compile_options(sites_symtest PRIVATE -g)
add_test(NAME sites_symbolize COMMAND sites_symtest)
set_tests_properties(sites_symbolize PROPERTIES TIMEOUT 60)

pt_shell_test(sites_fixture sites_fixture.sh 120)
pt_shell_test(sites_errors sites_errors.sh 60)
pt_shell_test(sites_overflow sites_overflow.sh 90)
pt_shell_test(sites_late_tag sites_late_tag.sh 60)
pt_shell_test(sites_preload sites_preload.sh 180)
pt_shell_test(sites_ln_line sites_ln_line.sh 60)
