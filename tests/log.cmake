# `pooltag log`: counter logs in SQLite (docs/log.md, docs/log-format.md).
# The shell tests need demo/notmyfault and the sqlite3 command-line tool
# (exit 77 = skipped when either is missing).  log_manytags is a program
# with N tags (the cost of a round; a circular log that fills fast).
add_executable(log_manytags ${CMAKE_CURRENT_SOURCE_DIR}/log_manytags.c)
target_link_libraries(log_manytags PRIVATE pooltag)

pt_shell_test(log_basic log_basic.sh 60)
pt_shell_test(log_signals log_signals.sh 60)
pt_shell_test(log_cap log_cap.sh 60)
pt_shell_test(log_multi log_multi.sh 60)
pt_shell_test(log_all log_all.sh 60)
pt_shell_test(log_errors log_errors.sh 60)
pt_shell_test(log_manytags log_manytags.sh 60)
pt_shell_test(log_reader log_reader.sh 60)
pt_shell_test(log_damaged log_damaged.sh 60)
# Issue 15: loads of 1, 1.3, 4 and 9 times the interval logged for 45 s by
# the clock: nosan (the sanitizer build runs the same writer and reader in
# the other log_* tests).
pt_shell_test(log_alias log_alias.sh 90)
set_tests_properties(log_alias PROPERTIES LABELS nosan)
