/* unwind_cfi_plugin.c — a plugin (.so) for tests/test_unwind_cfi.c: calls
 * back through two frames of its own (built -fomit-frame-pointer -O2). */
typedef int (*cb_fn)(int);
#define NOINL __attribute__((noinline))
#define KEEP __asm__ volatile("" ::: "memory")
NOINL static int plug_b(cb_fn cb, int x) { int r = cb(x + 1); KEEP; return r + 1; }
NOINL static int plug_a(cb_fn cb, int x) { int r = plug_b(cb, x * 2); KEEP; return r + 1; }
NOINL int plugin_call(cb_fn cb, int x) { int r = plug_a(cb, x); KEEP; return r + 1; }
