# pooltag special and run's special pool flags (issue 12): the reader of
# the special page, block records and reports (src/reader/special.c), the
# verb on hv_segment --special (a segment with known contents, as a file
# or live), and end to end with the real runtime (spv_live: skipped while
# the runtime has no special pool).
pt_shell_test(spv_show spv_show.sh 60)
pt_shell_test(spv_change spv_change.sh 60)
pt_shell_test(spv_errors spv_errors.sh 60)
