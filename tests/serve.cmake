# Tests of `pooltag serve` (issue 4, part 3).  serve_rules needs only
# promtool; the others run notmyfault and exit 77 when it is not built.
pt_shell_test(serve_rules serve_rules.sh 60)
pt_shell_test(serve_http serve_http.sh 90)
pt_shell_test(serve_metrics serve_metrics.sh 240)
# Not repeated in the sanitizer build (CI time: 62 s there, mostly waiting
# on scrape rounds): the exporter's request path runs under ASan in
# serve_http, serve_slowloris and serve_dashboard, and is fuzzed (fuzz_http).
set_tests_properties(serve_metrics PROPERTIES LABELS nosan)
pt_shell_test(serve_dashboard serve_dashboard.sh 90)
# The real Prometheus server scraping serve, with the leak alert; it runs
# Prometheus (a Go program) next to the build under test, not in ASan.
pt_shell_test(serve_prometheus serve_prometheus.sh 180)
set_tests_properties(serve_prometheus PROPERTIES LABELS nosan)
# Whose processes serve exports (root, uid 65534; skipped when not root)
# and slow clients (issue 9, items 10 and 11).
pt_shell_test(serve_users serve_users.sh 60)
pt_shell_test(serve_slowloris serve_slowloris.sh 60)
pt_shell_test(serve_ticks serve_ticks.sh 30)
