# pooltag hit and pooltag verify (issue 11): the reader of the trace
# regions, the outside writer and the two verbs.  hv_segment builds a
# segment with known stacks, rings, tracked blocks and leak reports, as a
# file or live from a memfd, and plays the runtime's side of the control
# protocol, so these tests do not wait on the runtime; the end-to-end ones
# (hit_notmyfault) need a runtime that records stacks and skip (77) when
# the segment has no control block.
add_executable(hv_segment ${CMAKE_CURRENT_SOURCE_DIR}/hv_segment.c)
target_include_directories(hv_segment PRIVATE ${PROJECT_SOURCE_DIR}/src/common
  ${PROJECT_SOURCE_DIR}/include)
# file:line for its frames; no inlining of the fixture functions.
target_compile_options(hv_segment PRIVATE -g -O1 -fno-omit-frame-pointer)
pt_shell_test(hit_show hit_show.sh 60)
pt_shell_test(hit_change hit_change.sh 60)
pt_shell_test(hit_errors hit_errors.sh 60)
pt_shell_test(hit_perm hit_perm.sh 60)
pt_shell_test(hit_notmyfault hit_notmyfault.sh 90)
pt_shell_test(verify_report verify_report.sh 60)
pt_shell_test(verify_change verify_change.sh 60)
pt_shell_test(verify_errors verify_errors.sh 60)
pt_shell_test(snap_sparse snap_sparse.sh 60)
pt_shell_test(hitverify_json hitverify_json.sh 60)
pt_shell_test(hit_run hit_run.sh 60)

# verify end to end with the real runtime: a plugin's outstanding blocks,
# --address of a freed block, the leak report at dlclose.
add_executable(verify_live_host ${CMAKE_CURRENT_SOURCE_DIR}/verify_live_host.c)
target_link_libraries(verify_live_host PRIVATE ${CMAKE_DL_LIBS})
if(PT_SANITIZE)
  target_compile_options(verify_live_host PRIVATE -fno-sanitize=all)
  target_link_options(verify_live_host PRIVATE -fno-sanitize=all)
endif()
pt_shell_test(verify_live verify_live.sh 90)
