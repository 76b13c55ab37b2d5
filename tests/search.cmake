# `pooltag search` (tests/search_*.sh) on the useheap fixture (address.cmake).
pt_shell_test(search_live search_live.sh 120)
pt_shell_test(search_errors search_errors.sh 60)
pt_shell_test(search_core search_core.sh 300)
