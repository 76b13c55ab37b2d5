# Tests of `pooltag run` (src/cli/run.c, docs/run.md).  run_help and
# run_errors need only the pooltag command; the others start programs under
# build/src/preload/libpooltag-preload.so and exit 77 (skipped) while it is
# not built.
pt_shell_test(run_help run_help.sh 60)
pt_shell_test(run_errors run_errors.sh 90)
pt_shell_test(run_exec run_exec.sh 120)
pt_shell_test(run_tagged run_tagged.sh 180)
pt_shell_test(run_children run_children.sh 120)
