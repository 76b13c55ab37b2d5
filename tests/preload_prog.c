/* preload_prog CASE — runs under libpooltag-preload.so (test_preload.sh) and
 * checks, through the pt_* functions the preload exports (looked up with
 * dlsym: this program is not linked with libpooltag), that its allocations
 * are tagged and counted as the preload promises. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pooltag.h"
#include "pt_test.h"

static int (*tag_read)(uint32_t, pt_tag_info *);
static uint32_t (*tag_of)(const void *);
static uint32_t (*tag_push)(uint32_t);
static void (*tag_pop)(uint32_t);

static pt_counts counts(const char *tagtext)
{
    uint32_t tag;
    pt_tag_info t;
    memset(&t, 0, sizeof t);
    CHECK(pt_tag_parse(tagtext, &tag) == 0);
    tag_read(tag, &t);
    return t.pool[PT_PAGED];
}

static uint32_t T(const char *text)
{
    uint32_t tag;
    CHECK(pt_tag_parse(text, &tag) == 0);
    return tag;
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        void *p = malloc((size_t)(i % 500) + 1);
        CHECK(p != NULL);
        free(p);
    }
    return NULL;
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig)
{
    (void)sig;
    char *p = malloc(100);
    if (p) {
        p[0] = 1;
        free(p);
        handled++;
    }
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *c = argv[1];
    tag_read = (int (*)(uint32_t, pt_tag_info *))dlsym(RTLD_DEFAULT, "pt_tag_read");
    tag_of = (uint32_t(*)(const void *))dlsym(RTLD_DEFAULT, "pt_tag_of");
    tag_push = (uint32_t(*)(uint32_t))dlsym(RTLD_DEFAULT, "pt_tag_push");
    tag_pop = (void (*)(uint32_t))dlsym(RTLD_DEFAULT, "pt_tag_pop");
    CHECK(tag_read && tag_of && tag_push && tag_pop); /* the preload is loaded */
    const char *me = getenv("ME_TAG") ? getenv("ME_TAG") : "prel";

    if (!strcmp(c, "basic")) {
        pt_counts b = counts(me);
        void *ps[100];
        for (int i = 0; i < 100; i++)
            ps[i] = malloc(1000);
        pt_counts a = counts(me);
        CHECK(a.allocs - b.allocs == 100);
        CHECK(a.bytes_alloc - b.bytes_alloc == 100000);
        CHECK(tag_of(ps[0]) == T(me));
        for (int i = 0; i < 100; i++)
            free(ps[i]);
        pt_counts f = counts(me);
        CHECK(f.frees - a.frees == 100);
        /* calloc zeroes and checks overflow; realloc keeps contents. */
        unsigned char *z = calloc(100, 10);
        for (int i = 0; i < 1000; i++)
            CHECK(z[i] == 0);
        errno = 0;
        volatile size_t huge = SIZE_MAX / 2;
        CHECK(calloc(huge, 4) == NULL && errno == ENOMEM);
        memset(z, 7, 1000);
        z = realloc(z, 100000);
        CHECK(z && z[999] == 7);
        CHECK(malloc_usable_size(z) >= 100000);
        CHECK(realloc(z, 0) == NULL);
        z = reallocarray(NULL, 10, 10);
        CHECK(z != NULL);
        free(z);
    } else if (!strcmp(c, "wrappers")) {
        /* strdup & co. are charged to the caller, not to libc. */
        pt_counts b = counts(me), lb = counts("libc");
        char *s[10];
        for (int i = 0; i < 10; i++)
            s[i] = strdup("hello, pooltag");
        char *n = strndup("abcdef", 3);
        char *a = NULL;
        CHECK(asprintf(&a, "%d-%s", 42, "x") == 4);
        char *rp = realpath("/", NULL);
        pt_counts after = counts(me), la = counts("libc");
        CHECK(after.allocs - b.allocs >= 13);
        CHECK(la.allocs - lb.allocs == 0);
        CHECK(tag_of(s[0]) == T(me) && tag_of(n) == T(me) && tag_of(a) == T(me));
        CHECK(tag_of(rp) == T(me));
        CHECK(!strcmp(n, "abc") && !strcmp(a, "42-x") && !strcmp(rp, "/"));
        for (int i = 0; i < 10; i++)
            free(s[i]);
        free(n), free(a), free(rp);
        /* A scope tag wins over the module's. */
        uint32_t old = tag_push(T("Scop"));
        void *p = malloc(10);
        tag_pop(old);
        CHECK(tag_of(p) == T("Scop"));
        free(p);
    } else if (!strcmp(c, "aligned")) {
        size_t aligns[] = {16, 32, 64, 256, 4096, 65536};
        for (size_t i = 0; i < 6; i++) {
            void *p = NULL;
            CHECK(posix_memalign(&p, aligns[i], 100) == 0);
            CHECK(((uintptr_t)p & (aligns[i] - 1)) == 0);
            CHECK(tag_of(p) == T(me));
            CHECK(malloc_usable_size(p) >= 100);
            free(p);
            p = aligned_alloc(aligns[i], 200);
            CHECK(p && ((uintptr_t)p & (aligns[i] - 1)) == 0);
            free(p);
            p = memalign(aligns[i], 300);
            CHECK(p && ((uintptr_t)p & (aligns[i] - 1)) == 0);
            p = realloc(p, 5000);
            CHECK(p != NULL);
            free(p);
        }
        void *v = valloc(10), *pv = pvalloc(10);
        CHECK(((uintptr_t)v & 4095) == 0 && ((uintptr_t)pv & 4095) == 0);
        CHECK(malloc_usable_size(pv) >= 4096);
        free(v), free(pv);
        void *bad = NULL;
        CHECK(posix_memalign(&bad, 24, 10) == EINVAL);
    } else if (!strcmp(c, "foreign")) {
        /* Blocks of glibc's own malloc are passed back to glibc. */
        void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
        CHECK(libc != NULL);
        void *(*gmalloc)(size_t) = (void *(*)(size_t))dlsym(libc, "malloc");
        CHECK(gmalloc && gmalloc != malloc);
        pt_counts b = counts(me);
        void *g = gmalloc(100);
        memset(g, 1, 100);
        CHECK(malloc_usable_size(g) >= 100);
        free(g);
        g = gmalloc(1000);
        memset(g, 2, 1000);
        char *r = realloc(g, 5000); /* moves into pooltag's heap */
        CHECK(r && r[999] == 2 && tag_of(r) == T(me));
        free(r);
        for (int i = 0; i < 1000; i++)
            free(gmalloc((size_t)i * 37));
        void *big = gmalloc(1 << 20); /* mmap'd by glibc */
        free(big);
        pt_counts a = counts(me);
        CHECK(a.allocs - b.allocs == 1 && a.frees - b.frees == 1);
        dlclose(libc);
    } else if (!strcmp(c, "threads")) {
        pthread_t th[4];
        pt_counts b = counts(me);
        for (int i = 0; i < 4; i++)
            CHECK(pthread_create(&th[i], NULL, worker, NULL) == 0);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        pt_counts a = counts(me);
        CHECK(a.allocs - b.allocs >= 400000);
        CHECK(a.allocs - b.allocs == a.frees - b.frees);
    } else if (!strcmp(c, "fork")) {
        void *keep = malloc(12345);
        pid_t pid = fork();
        if (pid == 0) {
            free(keep); /* inherited: freed, not counted in the child */
            void *p = malloc(777);
            CHECK(p != NULL);
            pt_counts k = counts(me);
            CHECK(k.frees == 0 || k.bytes_freed < 12345);
            CHECK(k.bytes_alloc - k.bytes_freed >= 777);
            _exit(0);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        free(keep);
    } else if (!strcmp(c, "signal")) {
        signal(SIGUSR1, on_usr1);
        for (int i = 0; i < 1000; i++)
            raise(SIGUSR1);
        CHECK(handled == 1000);
    } else if (!strcmp(c, "dlopen")) {
        const char *lib = getenv("PLUGIN");
        CHECK(lib != NULL);
        void *h = dlopen(lib, RTLD_NOW);
        CHECK(h != NULL);
        void *(*plug_alloc)(size_t) = (void *(*)(size_t))dlsym(h, "plug_alloc");
        CHECK(plug_alloc != NULL);
        void *p = plug_alloc(4321);
        CHECK(tag_of(p) == T("ptpl"));
        pt_counts pc = counts("ptpl");
        CHECK(pc.allocs == 1 && pc.bytes_alloc == 4321);
        free(p);
        dlclose(h);
        CHECK(counts("ptpl").frees == 1);
    } else if (!strcmp(c, "doublefree")) {
        void *p = malloc(64);
        free(p);
        free(p); /* reported, not passed on; the program goes on */
        puts("survived");
    } else if (!strcmp(c, "env")) {
        const char *lp = getenv("LD_PRELOAD");
        printf("LD_PRELOAD=%s\n", lp ? lp : "(unset)");
    } else {
        return 2;
    }
    puts("ok");
    return 0;
}
