/* unwind_cfi_plugin.c — a plugin (.so) for tests/test_unwind_cfi.c: calls
 * back through two frames of its own (built -fomit-frame-pointer -O2).
 * Built three times: VARIANT 0 (stays loaded), 1 and 2 (dlopened, dlclosed
 * and replaced by each other at the same address: their frames differ in
 * size and position, so a rule cached for one is wrong for the other). */
#ifndef VARIANT
#define VARIANT 0
#endif
typedef int (*cb_fn)(int);
#define NOINL __attribute__((noinline))
#define KEEP __asm__ volatile("" ::: "memory")
#define PAD (8 + 40 * VARIANT)
/* each function's return address, for the test's expected chain */
void *plugin_ras[3];
#if VARIANT == 2
/* shifts the code below by a few hundred bytes */
NOINL int plugin_filler(int x)
{
    volatile int a[64];
    for (int i = 0; i < 64; i++) a[i] = x * i;
    int s = 0;
    for (int i = 0; i < 64; i++) s += a[i] * a[63 - i];
    return s;
}
#endif
NOINL static int plug_b(cb_fn cb, int x)
{
    volatile char pad[PAD];
    pad[0] = (char)x;
    plugin_ras[0] = __builtin_return_address(0);
    int r = cb(x + 1);
    KEEP;
    return r + pad[0];
}
NOINL static int plug_a(cb_fn cb, int x)
{
    volatile char pad[PAD * 2];
    pad[PAD] = (char)x;
    plugin_ras[1] = __builtin_return_address(0);
    int r = plug_b(cb, x * 2);
    KEEP;
    return r + pad[PAD];
}
NOINL int plugin_call(cb_fn cb, int x)
{
    plugin_ras[2] = __builtin_return_address(0);
    int r = plug_a(cb, x);
    KEEP;
    return r + 1;
}
