# `pooltag lm` and `pooltag ln` on the issue 5 fixtures (tests/fixtures.cmake).
pt_shell_test(lm_live lm_live.sh 60)
pt_shell_test(ln_live lm_ln_live.sh 60)
pt_shell_test(lm_vdso lm_vdso.sh 60)
