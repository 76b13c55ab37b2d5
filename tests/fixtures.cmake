# Fixture programs and libraries shared by the tests of find, lm, ln,
# imports and run --behalf (issue 5), built into tests/fixtures/ of the
# build tree (PT_FIXTURES in the tests' environment):
#   libfx_tagtwo.so        one tag (FxTw) used in two functions
#   libfx_seapi.so         an API that allocates with tag Se for its callers
#   libfx_plugin_good.so   calls api_query and releases every answer
#   libfx_plugin_leaky.so  calls api_query and never releases
#   fx_host                loads plugins and calls them every tick
set(PT_FIXTURES ${PROJECT_BINARY_DIR}/tests/fixtures)
function(pt_fixture_lib name)
  add_library(${name} SHARED ${ARGN})
  set_target_properties(${name} PROPERTIES
    LIBRARY_OUTPUT_DIRECTORY ${PT_FIXTURES} C_VISIBILITY_PRESET hidden)
endfunction()
pt_fixture_lib(fx_tagtwo fixtures/fx_tagtwo.c)
target_link_libraries(fx_tagtwo PRIVATE pooltag)
pt_fixture_lib(fx_seapi fixtures/fx_seapi.c)
target_link_libraries(fx_seapi PRIVATE pooltag)
pt_fixture_lib(fx_plugin_good fixtures/fx_plugin_good.c)
target_link_libraries(fx_plugin_good PRIVATE fx_seapi)
pt_fixture_lib(fx_plugin_leaky fixtures/fx_plugin_leaky.c)
target_link_libraries(fx_plugin_leaky PRIVATE fx_seapi)
add_executable(fx_host fixtures/fx_host.c)
set_target_properties(fx_host PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_link_libraries(fx_host PRIVATE fx_tagtwo pooltag ${CMAKE_DL_LIBS})
list(APPEND PT_TEST_ENV "PT_FIXTURES=${PT_FIXTURES}")
