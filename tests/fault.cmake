# Fault injection (issue 12 item 4): PT_FAIL and `pooltag fault` with the
# real runtime under the preload.  fault_prog allocates two tags through
# the exported pt_* functions (or a plugin's module, fault_plug); fault_cxx
# checks C++ new under injection.  The fixtures are not sanitized (they run
# under the preload, as the other preload fixtures).
add_executable(fault_prog ${CMAKE_CURRENT_SOURCE_DIR}/fault_prog.c
  ${PROJECT_SOURCE_DIR}/src/common/tagtext.c)
target_include_directories(fault_prog PRIVATE ${PROJECT_SOURCE_DIR}/include)
target_compile_options(fault_prog PRIVATE -fno-builtin)
target_link_libraries(fault_prog PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
add_library(fault_plug SHARED ${CMAKE_CURRENT_SOURCE_DIR}/fault_plug.c)
target_compile_options(fault_plug PRIVATE -fno-builtin)
add_executable(fault_cxx ${CMAKE_CURRENT_SOURCE_DIR}/fault_cxx.cc)
foreach(t fault_prog fault_plug fault_cxx)
  if(PT_SANITIZE)
    target_compile_options(${t} PRIVATE -fno-sanitize=all)
    target_link_options(${t} PRIVATE -fno-sanitize=all)
  endif()
endforeach()
pt_shell_test(fault_rate fault_rate.sh 120)
pt_shell_test(fault_select fault_select.sh 120)
pt_shell_test(fault_live fault_live.sh 120)
pt_shell_test(fault_errors fault_errors.sh 60)
pt_shell_test(fault_counters fault_counters.sh 90)
pt_shell_test(fault_perm fault_perm.sh 60)
pt_shell_test(fault_real fault_real.sh 300)
