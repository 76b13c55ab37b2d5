# Tests of `pooltag trend` (issue 4): the verdict algorithm on generated
# series (C), generated counter logs with known answers at two sampling
# intervals, malformed logs, the HTML report in headless Chromium, and a
# live notmyfault run logged by `pooltag log`.
add_executable(trend_verdict ${CMAKE_CURRENT_SOURCE_DIR}/trend_verdict.c)
target_link_libraries(trend_verdict PRIVATE ptlib)
add_test(NAME trend_verdict COMMAND trend_verdict)
set_tests_properties(trend_verdict PROPERTIES TIMEOUT 60)

pt_shell_test(trend_synthetic trend_synthetic.sh 90)
pt_shell_test(trend_errors trend_errors.sh 60)
pt_shell_test(trend_values trend_values.sh 60)
pt_shell_test(trend_killed trend_killed.sh 60)
pt_shell_test(trend_html trend_html.sh 90)
pt_shell_test(trend_live trend_live.sh 90)
# 36 s of logging by the clock: in the sanitizer build it held a CI slot
# for 38 s while trend_killed, trend_html and the log_* tests run the same
# logger and verdict code under the sanitizers.
set_tests_properties(trend_live PROPERTIES LABELS nosan)
pt_shell_test(trend_html_ticks trend_html_ticks.sh 60)
# Measured accuracy (issue 15): 13,000 generated series with a known truth,
# sampled with and without the interval's min/max; the table is in
# docs/trend.md ("Measured").  A tenth of the series under the sanitizers.
add_executable(trend_sweep ${CMAKE_CURRENT_SOURCE_DIR}/trend_sweep.c)
target_link_libraries(trend_sweep PRIVATE ptlib)
if(PT_SANITIZE)
  add_test(NAME trend_sweep COMMAND trend_sweep 10)
else()
  add_test(NAME trend_sweep COMMAND trend_sweep)
endif()
set_tests_properties(trend_sweep PROPERTIES TIMEOUT 120)

# bench/trend_bench.sh on a small log: it runs and prints its table (no
# timing assertion; the figures are in docs/trend.md).
pt_shell_test(trend_bench_quick trend_bench_quick.sh 150)
set_tests_properties(trend_bench_quick PROPERTIES LABELS nosan)
