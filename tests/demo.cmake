# Tests of demo/notmyfault, demo/run-demo.sh and bench/alloc_bench (shell
# scripts, each its own CTest process; see tests/demo_*.sh).
pt_shell_test(demo_cli demo_cli.sh 60)
pt_shell_test(demo_leak_paged demo_leak_paged.sh 90)
pt_shell_test(demo_nonpaged_full demo_nonpaged_full.sh 60)
pt_shell_test(demo_load demo_load.sh 60)
pt_shell_test(demo_signal demo_signal.sh 60)
pt_shell_test(demo_run demo_run.sh 90)
pt_shell_test(bench_quick demo_bench_quick.sh 180)
# A benchmark under ASan/UBSan measures nothing useful: not in `make test-asan`.
pt_shell_test(churn_quick demo_churn_quick.sh 120)
pt_shell_test(floor_quick demo_floor_quick.sh 120)
set_tests_properties(bench_quick churn_quick floor_quick PROPERTIES LABELS nosan)
# The README's demo script, paced by its own sleeps (24 s): its verbs and
# notmyfault run under the sanitizers in demo_leak_paged and demo_cli.
set_tests_properties(demo_run PROPERTIES LABELS nosan)
