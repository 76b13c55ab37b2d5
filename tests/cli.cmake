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
pt_shell_test(cli_messages cli_messages.sh 30)
pt_shell_test(cli_bare_image cli_bare_image.sh 30)
