# Tests of the `pooltag` command (verbs used, vm, snap, help and the
# dispatcher).  cli_synthetic needs only the build; the others run against
# demo/notmyfault and exit 77 (skipped) when it is not built.
pt_shell_test(cli_help cli_help.sh 60)
pt_shell_test(cli_synthetic cli_synthetic.sh 60)
pt_shell_test(cli_used cli_used.sh 90)
pt_shell_test(cli_vm cli_vm.sh 90)
pt_shell_test(cli_snap cli_snap.sh 90)
pt_shell_test(cli_errors cli_errors.sh 90)
pt_shell_test(cli_perm cli_perm.sh 90)
pt_shell_test(cli_outfiles cli_outfiles.sh 60)
pt_shell_test(cli_fifo_inputs cli_fifo_inputs.sh 60)
# Not repeated in the sanitizer build (CI's 15 minutes: 115 s of test time
# there): these four check the command's messages, exit codes and output
# files; the readers they feed bad input to are fuzzed under ASan (fuzz/),
# and every verb's own tests run its code under ASan.
set_tests_properties(cli_snap cli_errors cli_outfiles cli_fifo_inputs PROPERTIES LABELS nosan)
pt_shell_test(cli_messages cli_messages.sh 30)
pt_shell_test(cli_bare_image cli_bare_image.sh 30)
pt_shell_test(cli_hostile_text cli_hostile_text.sh 60)
# cli_hostile_text: a process named "\e[2J\e]0;PWN\a" with a library at a
# path holding ESC, BEL and newline bytes.
add_executable(cli_hostile ${CMAKE_CURRENT_SOURCE_DIR}/cli_hostile.c)
target_link_libraries(cli_hostile PRIVATE pooltag ${CMAKE_DL_LIBS})
add_library(cli_hostile_lib SHARED ${CMAKE_CURRENT_SOURCE_DIR}/cli_hostile_lib.c)
target_link_libraries(cli_hostile_lib PRIVATE pooltag)
pt_shell_test(cli_interval cli_interval.sh 60)
# cli_perm_hint: a process that is not dumpable.
add_executable(cli_nodump ${CMAKE_CURRENT_SOURCE_DIR}/cli_nodump.c)
pt_shell_test(cli_perm_hint cli_perm_hint.sh 60)
pt_shell_test(docs_env docs_env.sh 30)
pt_shell_test(cli_help_usage cli_help_usage.sh 30)
# A live segment mapped but not yet published (version 0).
add_executable(cli_unpublished ${CMAKE_CURRENT_SOURCE_DIR}/cli_unpublished.c)
pt_shell_test(cli_unpublished cli_unpublished.sh 30)

# The table/JSON emitter of the command's library (src/lib/emit.c).
add_executable(test_emit ${CMAKE_CURRENT_SOURCE_DIR}/test_emit.c)
target_link_libraries(test_emit PRIVATE ptlib)
target_include_directories(test_emit PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME emit COMMAND test_emit)
set_tests_properties(emit PROPERTIES TIMEOUT 30)
# The JSON of used, vm, sites, snap, lm, ln and mon against docs/json.md
# (issue 10, part A of the emitter port).
pt_shell_test(json_schema_a json_schema_a.sh 240)
# Not repeated in the sanitizer build (CI time: 31 s there): the emitter
# runs under ASan in `emit` and in every verb's own tests; this checks the
# documents' shape, which the sanitizer does not change.
set_tests_properties(json_schema_a PROPERTIES LABELS nosan)

# The one UTF-8 check of the command's library (cli_utf8_len, util.c).
add_executable(test_utf8 ${CMAKE_CURRENT_SOURCE_DIR}/test_utf8.c)
target_link_libraries(test_utf8 PRIVATE ptlib)
target_include_directories(test_utf8 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME utf8 COMMAND test_utf8)
set_tests_properties(utf8 PROPERTIES TIMEOUT 30)

# The JSON of find, imports, trend and serve against docs/json.md (issue 10).
pt_shell_test(json_schema_b json_schema_b.sh 120)

# Issue 15: the arithmetic of used --age, sites --age and used --suspects
# (src/lib/ages.c) on readings built by hand; then the verbs on a live
# notmyfault (leak and load), its snapshot, and a source without ages.
add_executable(test_used_age ${CMAKE_CURRENT_SOURCE_DIR}/test_used_age.c)
target_link_libraries(test_used_age PRIVATE ptlib m)
add_test(NAME used_age_math COMMAND test_used_age)
set_tests_properties(used_age_math PROPERTIES TIMEOUT 30)
pt_shell_test(used_age used_age.sh 120)
