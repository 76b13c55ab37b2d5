/*
 * preload.c — libpooltag-preload.so: tags every allocation of an unmodified
 * program (LD_PRELOAD, or `pooltag run`).
 *
 * This file only interposes: each entry point of the C allocator hands the
 * request, with the return address of its caller, to the runtime
 * (src/runtime and src/preload/{plalloc,boot,unwind,foreign,plexit}.c,
 * built with PT_PRELOAD), which picks the tag of the
 * calling module and counts.  The runtime is linked into this library, so a
 * program that also links libpooltag.so uses this library's copy of every
 * pt_* function: one runtime, one segment.
 *
 * Wrappers that allocate for their caller (strdup, asprintf, getline,
 * realpath, ...) are interposed too, so that the allocation is charged to
 * the code that called the wrapper, not to libc.  C++ operators are in
 * preload_cxx.cc.
 *
 * Children: unless PT_FOLLOW_CHILDREN=1, the library removes itself from
 * LD_PRELOAD at start (in place, without allocating), so programs that this
 * one executes run untagged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "preload.h"

#define RA __builtin_return_address(0)
/* This file is compiled with default visibility (src/preload/CMakeLists.txt):
 * every function defined here is an interposer and must be exported.  An
 * attribute would not do: glibc's headers may already define some of them
 * (getline as an extern inline at -O2), and clang refuses an attribute that
 * follows a definition. */
#define EXPORT

EXPORT void *malloc(size_t n)
{
    return pt__pl_malloc(n, RA);
}

EXPORT void free(void *p)
{
    pt__pl_free(p);
}

EXPORT void cfree(void *p)
{
    pt__pl_free(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
    return pt__pl_calloc(n, size, RA);
}

EXPORT void *realloc(void *p, size_t n)
{
    return pt__pl_realloc(p, n, RA);
}

EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return pt__pl_realloc(p, total, RA);
}

static int pow2(size_t a)
{
    return a && !(a & (a - 1));
}

EXPORT void *memalign(size_t align, size_t n)
{
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return pt__pl_memalign(align, n, RA);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return pt__pl_memalign(align, n, RA);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!pow2(align) || align % sizeof(void *))
        return EINVAL;
    int saved = errno;
    void *p = pt__pl_memalign(align, n, RA);
    if (!p)
        return ENOMEM;
    errno = saved;
    *out = p;
    return 0;
}

EXPORT void *valloc(size_t n)
{
    return pt__pl_memalign(4096, n, RA);
}

EXPORT void *pvalloc(size_t n)
{
    size_t r = (n + 4095) & ~(size_t)4095;
    if (r < n) {
        errno = ENOMEM;
        return NULL;
    }
    return pt__pl_memalign(4096, r ? r : 4096, RA);
}

EXPORT size_t malloc_usable_size(void *p)
{
    return pt__pl_usable(p);
}

/* ---- dlclose ------------------------------------------------------------- */

/* The runtime learns of a new module when code in it first allocates; it
 * must also learn that one is gone, so that code loaded later at the same
 * address is not taken for it (its tag, its sites, --behalf's API ranges):
 * after every real dlclose it checks which modules are still mapped (a
 * dlclose that only drops a reference unloads nothing).  dlclose does not
 * depend on its caller (unlike dlopen, whose search path does), so it can
 * be interposed without changing what it does. */
EXPORT int dlclose(void *handle)
{
    static int (*real_dlclose)(void *);
    int (*f)(void *) = __atomic_load_n(&real_dlclose, __ATOMIC_ACQUIRE);
    if (!f) {
        *(void **)&f = dlsym(RTLD_NEXT, "dlclose");
        if (!f) {
            errno = ENOSYS;
            return -1;
        }
        __atomic_store_n(&real_dlclose, f, __ATOMIC_RELEASE);
    }
    int rc = f(handle);
    pt__pl_dlclosed();
    return rc;
}

/* ---- wrappers that allocate for their caller ---------------------------- */

/* Copy the first n bytes of s and a NUL, charged to `ra`. */
static inline __attribute__((always_inline)) char *dup_n(const char *s, size_t n, const void *ra)
{
    char *p = pt__pl_malloc(n + 1, ra);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

EXPORT char *strdup(const char *s)
{
    return dup_n(s, strlen(s), RA);
}

EXPORT char *__strdup(const char *s)
{
    return dup_n(s, strlen(s), RA);
}

EXPORT char *strndup(const char *s, size_t max)
{
    return dup_n(s, strnlen(s, max), RA);
}

EXPORT char *__strndup(const char *s, size_t max)
{
    return dup_n(s, strnlen(s, max), RA);
}

EXPORT wchar_t *wcsdup(const wchar_t *s)
{
    size_t n = (wcslen(s) + 1) * sizeof(wchar_t);
    wchar_t *p = pt__pl_malloc(n, RA);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* The real libc function, looked up once (dlsym may allocate: the runtime
 * serves those requests like any other). */
#define REAL(name)                                                           \
    static __typeof__(&name) real_##name;                                    \
    if (!real_##name)                                                        \
        real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name);

EXPORT int vasprintf(char **strp, const char *fmt, va_list ap)
{
    REAL(vasprintf)
    const void *old = pt__pl_site_push(RA);
    int r = real_vasprintf ? real_vasprintf(strp, fmt, ap) : -1;
    pt__pl_site_pop(old);
    return r;
}

EXPORT int asprintf(char **strp, const char *fmt, ...)
{
    REAL(vasprintf)
    const void *old = pt__pl_site_push(RA);
    va_list ap;
    va_start(ap, fmt);
    int r = real_vasprintf ? real_vasprintf(strp, fmt, ap) : -1;
    va_end(ap);
    pt__pl_site_pop(old);
    return r;
}

EXPORT ssize_t getdelim(char **line, size_t *n, int delim, FILE *f)
{
    REAL(getdelim)
    const void *old = pt__pl_site_push(RA);
    ssize_t r = real_getdelim ? real_getdelim(line, n, delim, f) : -1;
    pt__pl_site_pop(old);
    return r;
}

EXPORT ssize_t getline(char **line, size_t *n, FILE *f)
{
    REAL(getdelim)
    const void *old = pt__pl_site_push(RA);
    ssize_t r = real_getdelim ? real_getdelim(line, n, '\n', f) : -1;
    pt__pl_site_pop(old);
    return r;
}

EXPORT char *realpath(const char *path, char *resolved)
{
    REAL(realpath)
    const void *old = pt__pl_site_push(RA);
    char *r = real_realpath ? real_realpath(path, resolved) : NULL;
    pt__pl_site_pop(old);
    return r;
}

EXPORT char *canonicalize_file_name(const char *path)
{
    REAL(realpath)
    const void *old = pt__pl_site_push(RA);
    char *r = real_realpath ? real_realpath(path, NULL) : NULL;
    pt__pl_site_pop(old);
    return r;
}

EXPORT FILE *open_memstream(char **ptr, size_t *size)
{
    REAL(open_memstream)
    const void *old = pt__pl_site_push(RA);
    FILE *r = real_open_memstream ? real_open_memstream(ptr, size) : NULL;
    pt__pl_site_pop(old);
    return r;
}

/* ---- process life ------------------------------------------------------- */

/* Remove this library from LD_PRELOAD in place (the string only shrinks),
 * so that programs executed from here run untagged. */
static void drop_from_ld_preload(void)
{
    extern char **environ;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
            continue;
        char *val = *e + 11, *out = val, *in = val;
        while (*in) {
            char *end = in;
            while (*end && *end != ':' && *end != ' ')
                end++;
            size_t len = (size_t)(end - in);
            const char *base = in;
            for (char *c = in; c < end; c++)
                if (*c == '/')
                    base = c + 1;
            int ours = (size_t)(end - base) >= 21 && strncmp(base, "libpooltag-preload.so", 21) == 0;
            if (!ours && len) {
                if (out != val)
                    *out++ = ':';
                memmove(out, in, len);
                out += len;
            }
            in = *end ? end + 1 : end;
        }
        *out = 0;
    }
}

__attribute__((constructor(101))) static void preload_start(void)
{
    const char *follow = pt__opt_env(PT_OPT_FOLLOW_CHILDREN);
    if (!follow || strcmp(follow, "1") != 0)
        drop_from_ld_preload();
    pt__pl_init();
}

__attribute__((destructor(101))) static void preload_end(void)
{
    pt__pl_exit_report(pt__opt_env(PT_OPT_EXIT_REPORT));
}

/* ---- sigaction, signal ------------------------------------------------------
 *
 * While the special pool's SIGSEGV/SIGBUS handler is installed
 * (src/runtime/spreport.c), a program that installs its own handler for one
 * of them gets it recorded as the handler pooltag chains to, and the kernel
 * keeps pooltag's; oldact says what the program installed before.  glibc's
 * signal() (= bsd_signal, ssignal) and sysv_signal() call sigaction inside
 * libc, not through the PLT, so they are interposed too; their flags are
 * glibc's (BSD: the signal masked, SA_RESTART; System V: SA_RESETHAND |
 * SA_NODEFER).  Every other call goes to the next definition (libc).  The
 * next definitions are looked up in a constructor, never in the call: a
 * signal handler may call signal(), and dlsym may allocate.  Before that
 * constructor ran, sigaction goes to glibc's __sigaction and the signal()
 * family is done with it, with glibc's flags. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
__attribute__((visibility("hidden"))) int pt__sp_sigaction(int sig, const struct sigaction *act,
                                                          struct sigaction *old);

typedef sighandler_t (*signal_fn)(int, sighandler_t);
static int (*next_sigaction)(int, const struct sigaction *, struct sigaction *);
enum { SF_SIGNAL, SF_BSD, SF_SSIGNAL, SF_SYSV, SF_SYSV2, SF_N };
static signal_fn next_signal[SF_N];
static const char *const signal_names[SF_N] = {"signal", "bsd_signal", "ssignal", "sysv_signal",
                                               "__sysv_signal"};

__attribute__((constructor(102))) static void signal_resolve(void)
{
    void *f = dlsym(RTLD_NEXT, "sigaction");
    __atomic_store_n((void **)&next_sigaction, f, __ATOMIC_RELEASE);
    for (int i = 0; i < SF_N; i++) {
        f = dlsym(RTLD_NEXT, signal_names[i]);
        __atomic_store_n((void **)&next_signal[i], f, __ATOMIC_RELEASE);
    }
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (pt__sp_sigaction(sig, act, old) == 0)
        return 0;
    int (*f)(int, const struct sigaction *, struct sigaction *) =
        __atomic_load_n(&next_sigaction, __ATOMIC_ACQUIRE);
    return f ? f(sig, act, old) : __sigaction(sig, act, old);
}

static sighandler_t sp_signal(unsigned which, int sig, sighandler_t h)
{
    int sysv = which == SF_SYSV || which == SF_SYSV2;
    struct sigaction a, old;
    memset(&a, 0, sizeof a);
    a.sa_handler = h;
    sigemptyset(&a.sa_mask);
    if (sysv) {
        a.sa_flags = (int)(SA_RESETHAND | SA_NODEFER);
    } else {
        sigaddset(&a.sa_mask, sig);
        a.sa_flags = SA_RESTART;
    }
    if (h != SIG_ERR && pt__sp_sigaction(sig, &a, &old) == 0)
        return old.sa_handler;
    signal_fn f = __atomic_load_n(&next_signal[which], __ATOMIC_ACQUIRE);
    if (f)
        return f(sig, h);
    if (h == SIG_ERR || sig <= 0 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    return __sigaction(sig, &a, &old) < 0 ? SIG_ERR : old.sa_handler;
}

EXPORT sighandler_t signal(int sig, sighandler_t h)
{
    return sp_signal(SF_SIGNAL, sig, h);
}

EXPORT sighandler_t bsd_signal(int sig, sighandler_t h)
{
    return sp_signal(SF_BSD, sig, h);
}

EXPORT sighandler_t ssignal(int sig, sighandler_t h)
{
    return sp_signal(SF_SSIGNAL, sig, h);
}

EXPORT sighandler_t sysv_signal(int sig, sighandler_t h)
{
    return sp_signal(SF_SYSV, sig, h);
}

EXPORT sighandler_t __sysv_signal(int sig, sighandler_t h)
{
    return sp_signal(SF_SYSV2, sig, h);
}
