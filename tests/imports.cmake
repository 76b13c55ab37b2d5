# `pooltag imports` on the issue 5 fixtures (tests/fixtures.cmake).
pt_shell_test(imports_fixture imports_fixture.sh 60)
pt_shell_test(imports_errors imports_errors.sh 60)
