#!/usr/bin/env bash
# The Prometheus rules of docs/prometheus: the shipped rules.yml is what the
# template gives for the production window (1h, for 15m); it and the short
# window of serve_prometheus.sh pass `promtool check rules`; the unit tests
# (rules_test.yml: leak and slow leak under a load fire, load, warm-up and
# noise do not) pass `promtool test rules`; the example config is valid.
set -u
: "${PT_SRC:?PT_SRC not set}"
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v promtool >/dev/null || { echo "SKIP: promtool not installed" >&2; exit 77; }
D=$PT_SRC/docs/prometheus
T=$(mktemp -d /tmp/pt_rules_XXXXXX)
trap 'rm -rf "$T"' EXIT

bash "$D/mkrules.sh" 1h 15m >"$T/rules.yml" || fail "mkrules.sh 1h"
cmp -s "$T/rules.yml" "$D/rules.yml" ||
    fail "docs/prometheus/rules.yml is not the output of mkrules.sh 1h 15m (regenerate it): $(diff "$T/rules.yml" "$D/rules.yml" | head -5)"
promtool check rules "$D/rules.yml" || fail "promtool check rules rules.yml"
bash "$D/mkrules.sh" 48s 4s >"$T/short.yml" || fail "mkrules.sh 48s"
grep -q 'offset 36s' "$T/short.yml" || fail "short rules lack the 3rd quarter offset"
grep -q '@' "$T/short.yml" && fail "a placeholder is left in the short rules"
promtool check rules "$T/short.yml" || fail "promtool check rules (short window)"
(cd "$D" && promtool test rules rules_test.yml) || fail "promtool test rules"
promtool check config "$D/prometheus.yml" || fail "promtool check config"
# The template refuses windows that do not split into quarters.
bash "$D/mkrules.sh" 10s >/dev/null 2>&1 && fail "mkrules.sh accepted 10s"
bash "$D/mkrules.sh" 1x >/dev/null 2>&1 && fail "mkrules.sh accepted 1x"
echo "serve rules tests passed"
