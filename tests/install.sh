#!/usr/bin/env bash
# `make install` under a prefix gives a usable library: header, shared and
# static library, pkg-config file, the pooltag command and the tag database.
# A program built with pkg-config against the installed copy runs, and the
# installed pooltag reads it.
set -eu
prefix=$(mktemp -d)
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$prefix" "$work"; }
trap cleanup EXIT
cmake --install "$PT_BUILD" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -1)
for f in include/pooltag.h bin/pooltag share/pooltag/pooltag.txt; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
ls "$libdir"/libpooltag.so* >/dev/null && [ -e "$libdir/libpooltag.a" ] || { echo "FAIL: libraries not installed"; exit 1; }
pc=$(ls "$libdir"/pkgconfig/pooltag.pc)
cat > "$work/app.c" <<'C'
#include <pooltag.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    void *p = pt_alloc(PT_PAGED, 4096, PT_TAG("Inst"));
    void *q = pt_alloc(PT_PAGED, 100, PT_TAG("Leak"));
    printf("%d\n", (int)getpid());
    fflush(stdout);
    sleep(30);
    pt_free(p);
    pt_free(q);
    return 0;
}
C
export PKG_CONFIG_PATH="$(dirname "$pc")"
cc -o "$work/app" "$work/app.c" $(pkg-config --cflags --libs pooltag) -Wl,-rpath,"$libdir"
# Static linking through the same pkg-config file.
cc -o "$work/app_static" "$work/app.c" $(pkg-config --cflags pooltag) "$libdir/libpooltag.a" $(pkg-config --static --libs-only-l pooltag | sed 's/-lpooltag//')
"$work/app" > "$work/pid" &
pid=$!
for _ in $(seq 50); do [ -s "$work/pid" ] && break; sleep 0.1; done
out=$("$prefix/bin/pooltag" used "$pid")
grep -q "Inst" <<<"$out" || { echo "FAIL: installed pooltag does not see the tag"; echo "$out"; exit 1; }
# Without POOLTAG_DB the installed database is used: Leak is described (it
# is in data/pooltag.txt) and so is Inst, which only the installed copy has.
out=$(env -u POOLTAG_DB HOME="$work" "$prefix/bin/pooltag" used "$pid")
grep -q "UNKNOWN pooltag 'Inst'" <<<"$out" || { echo "FAIL: Inst should be unknown:"; echo "$out"; exit 1; }
echo "Inst - installtest - only in the installed copy" >> "$prefix/share/pooltag/pooltag.txt"
out=$(env -u POOLTAG_DB HOME="$work" "$prefix/bin/pooltag" used "$pid")
grep -q "installtest - only in the installed copy" <<<"$out" && grep -E "^ *Leak .*notmyfault" <<<"$out" >/dev/null \
  || { echo "FAIL: installed pooltag.txt not used:"; echo "$out"; exit 1; }
echo "install: ok"
