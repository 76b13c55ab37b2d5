# `pooltag find` (issue 5 part 1): where a tag's bytes occur in files,
# directories and a live process's modules.  Shell tests (find_*.sh) over
# the issue-5 fixtures ($PT_FIXTURES) and demo/notmyfault.
pt_shell_test(find_fixture find_fixture.sh 60)
pt_shell_test(find_live find_live.sh 60)
pt_shell_test(find_errors find_errors.sh 60)
