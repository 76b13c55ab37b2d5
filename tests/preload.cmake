# The preload on programs of our own.
# The test programs compile tagtext.c themselves (not ptcommon's objects,
# which carry the sanitizers in a PT_SANITIZE build).
add_executable(preload_prog ${CMAKE_CURRENT_SOURCE_DIR}/preload_prog.c
  ${PROJECT_SOURCE_DIR}/src/common/tagtext.c)
target_include_directories(preload_prog PRIVATE ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(preload_prog PRIVATE -fno-builtin)
target_link_libraries(preload_prog PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
add_executable(preload_cxx ${CMAKE_CURRENT_SOURCE_DIR}/preload_cxx.cc
  ${PROJECT_SOURCE_DIR}/src/common/tagtext.c)
target_include_directories(preload_cxx PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(preload_cxx PRIVATE ${CMAKE_DL_LIBS})
add_library(ptplug SHARED ${CMAKE_CURRENT_SOURCE_DIR}/preload_plugin.c)
set_target_properties(ptplug PROPERTIES OUTPUT_NAME ptplug)
foreach(t preload_prog preload_cxx ptplug)
  if(PT_SANITIZE)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endif()
endforeach()
pt_shell_test(preload test_preload.sh 300)

# User-named allocator wrappers (PT_WRAPPERS): the fixture keeps its symbols.
add_executable(wrap_prog ${CMAKE_CURRENT_SOURCE_DIR}/wrap_prog.c)
target_compile_options(wrap_prog PRIVATE -O2 -fno-builtin -fno-inline)
if(PT_SANITIZE)
  target_compile_options(wrap_prog PRIVATE -fno-sanitize=all)
  target_link_options(wrap_prog PRIVATE -fno-sanitize=all)
endif()
pt_shell_test(preload_wrappers test_wrappers.sh 120)
set_tests_properties(preload_wrappers PROPERTIES LABELS nosan)

# dlclose and a module loaded at the same address (issue 9 item 4): one
# plugin source built under three names, and a host that loads them in turn.
foreach(p alpha bravo charlie)
  add_library(fx_dlplug_${p} SHARED ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/fx_dlplug.c)
  set_target_properties(fx_dlplug_${p} PROPERTIES OUTPUT_NAME ${p}
    LIBRARY_OUTPUT_DIRECTORY ${PT_FIXTURES}/dl C_VISIBILITY_PRESET hidden)
  target_compile_options(fx_dlplug_${p} PRIVATE -O1)
  list(APPEND PT_DL_FIXTURES fx_dlplug_${p})
endforeach()
add_executable(fx_dlcycle ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/fx_dlcycle.c)
set_target_properties(fx_dlcycle PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PT_FIXTURES})
target_link_libraries(fx_dlcycle PRIVATE ${CMAKE_DL_LIBS})
foreach(t fx_dlcycle ${PT_DL_FIXTURES})
  if(PT_SANITIZE)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endif()
endforeach()
pt_shell_test(preload_dlclose preload_dlclose.sh 60)
set_tests_properties(preload_dlclose PROPERTIES LABELS nosan)

# Caller errors under the preload, both backends (issue 9, item 9).
add_executable(preload_errs ${CMAKE_CURRENT_SOURCE_DIR}/preload_errs.c)
target_compile_options(preload_errs PRIVATE -fno-builtin)
if(PT_SANITIZE)
  target_compile_options(preload_errs PRIVATE -fno-sanitize=all)
  target_link_options(preload_errs PRIVATE -fno-sanitize=all)
endif()
pt_shell_test(preload_errors preload_errors.sh 120)

# mallinfo & co under the preload (issue 9, item 5).
add_executable(preload_mallinfo ${CMAKE_CURRENT_SOURCE_DIR}/preload_mallinfo.c)
target_compile_options(preload_mallinfo PRIVATE -Wno-deprecated-declarations)
if(PT_SANITIZE)
  target_compile_options(preload_mallinfo PRIVATE -fno-sanitize=all)
  target_link_options(preload_mallinfo PRIVATE -fno-sanitize=all)
endif()
pt_shell_test(preload_mallinfo preload_mallinfo.sh 60)

# Signal handlers that allocate; zero-byte blocks; realloc(foreign, 0)
# (issue 9, low items).
foreach(t preload_sigalloc preload_zero)
  add_executable(${t} ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
  target_compile_options(${t} PRIVATE -fno-builtin)
  target_link_libraries(${t} PRIVATE ${CMAKE_DL_LIBS})
  if(PT_SANITIZE)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endif()
endforeach()
pt_shell_test(preload_signals preload_signals.sh 60)
