# pooltag mon: tables written with -n / --json / plain output, and the
# interactive screen driven in tmux.  Both need demo/notmyfault (exit 77 =
# skipped when it is missing; mon_tmux also skips without tmux).
pt_shell_test(mon_file mon_file.sh 90)
pt_shell_test(mon_tmux mon_tmux.sh 120)
