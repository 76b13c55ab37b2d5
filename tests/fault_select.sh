#!/usr/bin/env bash
# module:GLOB selects by the module of the call site: a plugin's mallocs
# fail, the program's own do not (base-name glob and path glob); a tag
# selector leaves the plugin alone; every function of the malloc family
# fails (malloc, calloc, realloc, posix_memalign, aligned_alloc, strdup).
. "$(dirname "$0")/fault_lib.sh"
[ -f "$PLUG" ] || fail "$PLUG not built"

fi_run 'module:libfault_plug*' "$FP" module "$PLUG" 1000
grep -qx 'plugin 1000 main 0' "$T/fi.out" || fail "module:libfault_plug*: $(cat "$T/fi.out")"
fi_run 'module:*/tests/libfault_plug.so:50:seed=2' "$FP" module "$PLUG" 4000
read -r _ p _ m <"$T/fi.out"
[ "$m" = 0 ] || fail "path glob: main had $m failures"
# 50% of 4000: 2000 +- 5 sigma (sigma 31.6)
[ "$p" -ge 1842 ] && [ "$p" -le 2158 ] || fail "path glob at 50%: plugin $p of 4000"
# A glob that names another module: nothing fails.
fi_run 'module:libnosuch*' "$FP" module "$PLUG" 1000
grep -qx 'plugin 0 main 0' "$T/fi.out" || fail "module:libnosuch*: $(cat "$T/fi.out")"
# The whole malloc family of the program's module fails with ENOMEM.
fi_run 'module:fault_prog' "$FP" family
grep -qx 'family 6 of 6' "$T/fi.out" || fail "module:fault_prog, malloc family: $(cat "$T/fi.out")"
echo "fault select tests passed"
