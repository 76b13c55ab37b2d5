# `pooltag run --behalf` (on-behalf attribution in the preload; issue 5
# part 4).  Fixtures of its own: libfx_behalf_api.so and its twin (the same
# code under another name, for the dlclose case) and fx_behalf_host, beside
# the shared ones in $PT_FIXTURES.  The tests that run programs under the
# preload are `nosan`: a sanitizer build's fixtures cannot take it.
pt_fixture_lib(fx_behalf_api fixtures/fx_behalf_api.c)
target_link_libraries(fx_behalf_api PRIVATE pooltag)
pt_fixture_lib(fx_behalf_twin fixtures/fx_behalf_api.c)
target_link_libraries(fx_behalf_twin PRIVATE pooltag)
add_executable(fx_behalf_host fixtures/fx_behalf_host.c)
set_target_properties(fx_behalf_host PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_link_libraries(fx_behalf_host PRIVATE pooltag Threads::Threads ${CMAKE_DL_LIBS})
# The host's static functions are named from its symbol table.
target_compile_options(fx_behalf_host PRIVATE -g)
add_executable(fx_behalf_reload fixtures/fx_behalf_reload.c)
set_target_properties(fx_behalf_reload PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_link_libraries(fx_behalf_reload PRIVATE pooltag ${CMAKE_DL_LIBS})
target_compile_options(fx_behalf_reload PRIVATE -g)

pt_shell_test(behalf_errors behalf_errors.sh 60)
pt_shell_test(behalf_sites behalf_sites.sh 60)
pt_shell_test(behalf_malloc behalf_malloc.sh 60)
pt_shell_test(behalf_reload behalf_reload.sh 60)
set_tests_properties(behalf_sites behalf_malloc behalf_reload PROPERTIES LABELS nosan)
# Not a test: the cost figures of docs/run.md ("On-behalf attribution").
add_executable(fx_behalf_bench fixtures/fx_behalf_bench.c)
set_target_properties(fx_behalf_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
# linked with libpooltag, as the API is: its TLS cannot come with a dlopen
target_link_libraries(fx_behalf_bench PRIVATE pooltag ${CMAKE_DL_LIBS})
