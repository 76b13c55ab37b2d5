/* rt_special MODE — the special pool in the runtime (issue 12), checked by
 * reading the program's own segment (the "/memfd:pooltag" mapping, layout
 * of src/common/segment.h).  Built twice: rt_special (linked with
 * libpooltag: pt_alloc & co. with tag Spc1, PT_SPECIAL=Spc1 in the
 * environment) and rt_special_pl (-DPL: the malloc family under the
 * preload, PT_SPECIAL=module:rt_special_pl).  Prints "ok" on success.
 *
 * Modes: layout, exact, underrun, slop, double, interior, uaf, quarantine,
 * aligned, realloc, calloc, threads, full, toggle, fork, sample. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pt_test.h"
#include "segment.h"

#ifdef PL
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#define REALLOC(p, n) realloc(p, n)
#define CALLOC(n) calloc(1, n)
#define ALIGNED(a, n) aligned_alloc(a, n)
#define SIZE(p) malloc_usable_size(p)
#define NORMAL(n) NULL /* (every allocation of this program is selected) */
#else
#include "pooltag.h"
#define TAG PT_TAG("Spc1")
#define ALLOC(n) pt_alloc(PT_PAGED, n, TAG)
#define FREE(p) pt_free(p)
#define REALLOC(p, n) pt_realloc(p, n)
#define CALLOC(n) pt_calloc(PT_PAGED, 1, n, TAG)
#define ALIGNED(a, n) pt_alloc_aligned(PT_PAGED, n, a, TAG)
#define SIZE(p) pt_size_of(p)
#define NORMAL(n) pt_alloc(PT_PAGED, n, PT_TAG("Nrm1"))
#endif

#define PG 4096u

static pt_seg_header *cached;

/* (read once at start and in a fork child: the maps of a process with many
 * special blocks are long) */
static pt_seg_header *seg_find(void)
{
    static char maps[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    CHECK(fd >= 0);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd, maps + n, sizeof maps - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    maps[n] = 0;
    char *l = strstr(maps, PT_SEG_MEMFD_SHOWN);
    CHECK(l != NULL);
    while (l > maps && l[-1] != '\n')
        l--;
    return (pt_seg_header *)(uintptr_t)strtoull(l, NULL, 16);
}

static pt_seg_header *seg(void)
{
    if (!cached)
        cached = seg_find();
    return cached;
}

static pt_seg_special *spc(void)
{
    pt_seg_header *h = seg();
    CHECK(h->special_off != 0);
    return (pt_seg_special *)((char *)h + h->special_off);
}

static int in_pool(const void *p)
{
    pt_seg_special *s = spc();
    return s->region_base && (uintptr_t)p - s->region_base < s->region_size;
}

/* The record of block p (NULL: none lists it). */
static pt_seg_spblk *record(const void *p)
{
    pt_seg_header *h = seg();
    pt_seg_spblk *b = (pt_seg_spblk *)((char *)h + h->spblk_off);
    uint64_t hw = spc()->blk_hw;
    for (uint64_t i = 0; i < hw; i++)
        if (b[i].addr == (uint64_t)(uintptr_t)p)
            return &b[i];
    return NULL;
}

/* Run fn(p) in a child; the signal it died of (0: exited). */
static int child_sig(void (*fn)(volatile char *), volatile char *p)
{
    fflush(NULL);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        signal(SIGSEGV, SIG_DFL);
        fn(p);
        _exit(0);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void touch_end(volatile char *p)
{
    /* the first byte of the page after the block's end */
    uintptr_t e = ((uintptr_t)p + 100 + PG - 1) & ~(uintptr_t)(PG - 1);
    *(volatile char *)e = 1;
}
static void read0(volatile char *p) { (void)p[0]; }
static void write0(volatile char *p) { p[0] = 1; }
static void read_before(volatile char *p) { (void)p[-1]; }
static void free_it(volatile char *p) { FREE((void *)p); }
static void free_twice(volatile char *p) { FREE((void *)p); FREE((void *)p); }
static void free_inside(volatile char *p) { FREE((void *)(p + 1)); }
static void slop_then_free(volatile char *p) { p[100] = 0; FREE((void *)p); }

static void m_layout(void)
{
    char *p = ALLOC(100);
    CHECK(p && in_pool(p));
    CHECK(((uintptr_t)p & 15) == 0);
    CHECK((((uintptr_t)p + 100 + 15) & (PG - 1)) < 16); /* ends at the page end, 16-rounded */
    CHECK((((uintptr_t)p + 100 + 15) & ~(uintptr_t)15) % PG == 0);
    CHECK_EQ_U(SIZE(p), 100);
#ifndef PL
    CHECK(pt_tag_of(p) == TAG);
    CHECK(pt_pool_of(p) == PT_PAGED);
    void *q = NORMAL(100);
    CHECK(q && !in_pool(q));
    pt_free(q);
#endif
    memset(p, 7, 100);
    pt_seg_special *s = spc();
    CHECK_EQ_U(s->allocs, 1);
    CHECK_EQ_U(s->blocks_live, 1);
    CHECK_EQ_U(s->bytes_live, 100);
    CHECK_EQ_U(s->pages_used, 2);
    pt_seg_spblk *b = record(p);
    CHECK(b && b->state == PT_SPB_LIVE && b->size == 100 && b->npages == 2);
    CHECK(b->alloc_stack != 0 || 1); /* (stacks: when capture works) */
    CHECK_EQ_U(child_sig(touch_end, p), SIGSEGV); /* the guard page */
    CHECK_EQ_U(child_sig(write0, p), 0);         /* the block itself */
    /* malloc(0): a slot of 1 byte inside a data page */
    char *volatile z = ALLOC(0);
    CHECK(z && in_pool(z));
    CHECK(SIZE(z) <= 1);
    z[0] = 1;
    FREE(z);
    FREE(p);
    CHECK_EQ_U(s->frees, 2);
    CHECK_EQ_U(s->blocks_live, 0);
    CHECK_EQ_U(s->bytes_live, 0);
    CHECK(b->state == PT_SPB_QUARANTINED);
    CHECK_EQ_U(s->pages_quarantined, 4);
    CHECK_EQ_U(child_sig(read0, p), SIGSEGV); /* use after free */
}

static void m_exact(void)
{
    char *p = ALLOC(13);
    CHECK(p && in_pool(p));
    CHECK(((uintptr_t)p + 13) % PG == 0);
    char *q = ALIGNED(64, 100); /* an explicit alignment is kept */
    CHECK(q && in_pool(q) && ((uintptr_t)q & 63) == 0);
    FREE(q);
    FREE(p);
}

static void m_underrun(void)
{
    char *p = ALLOC(100);
    CHECK(p && in_pool(p));
    CHECK((uintptr_t)p % PG == 0);
    CHECK_EQ_U(child_sig(read_before, p), SIGSEGV);
    CHECK_EQ_U(child_sig(slop_then_free, p), SIGABRT); /* the slop after it */
    FREE(p);
}

static void m_errors(const char *mode)
{
    char *p = ALLOC(100);
    CHECK(p && in_pool(p));
    if (!strcmp(mode, "slop"))
        CHECK_EQ_U(child_sig(slop_then_free, p), SIGABRT);
    else if (!strcmp(mode, "double"))
        CHECK_EQ_U(child_sig(free_twice, p), SIGABRT);
    else if (!strcmp(mode, "interior"))
        CHECK_EQ_U(child_sig(free_inside, p), SIGABRT);
    else if (!strcmp(mode, "uaf"))
        CHECK_EQ_U(child_sig(free_it, p), 0);
    /* the parent's block is intact: a clean free */
    FREE(p);
    if (!strcmp(mode, "uaf")) {
        CHECK_EQ_U(child_sig(read0, p), SIGSEGV);
        CHECK_EQ_U(child_sig(write0, p), SIGSEGV);
    }
}

/* PT_QUARANTINE=8: a freed 2-page run stays quarantined while 3 more are
 * freed after it, and leaves (its record given back) at the 4th. */
static void m_quarantine(void)
{
    char *a = ALLOC(100);
    CHECK(a && in_pool(a));
    FREE(a);
    pt_seg_spblk *b = record(a);
    CHECK(b && b->state == PT_SPB_QUARANTINED);
    for (int i = 0; i < 3; i++) {
        char *x = ALLOC(200);
        CHECK(x && in_pool(x));
        FREE(x);
        CHECK(record(a) == b && b->state == PT_SPB_QUARANTINED);
        CHECK_EQ_U(child_sig(read0, a), SIGSEGV);
    }
    CHECK_EQ_U(spc()->pages_quarantined, 8);
    char *x = ALLOC(300);
    FREE(x);
    CHECK(record(a) == NULL); /* left the quarantine first (FIFO) */
    CHECK_EQ_U(spc()->pages_quarantined, 8);
    CHECK_EQ_U(spc()->pages_used, 8);
    CHECK_EQ_U(child_sig(read0, a), SIGSEGV); /* never accessible again until reused */
}

static void m_aligned(void)
{
    char *p = ALIGNED(64, 100);
    CHECK(p && in_pool(p) && ((uintptr_t)p & 63) == 0);
    CHECK((uintptr_t)p + 100 <= (((uintptr_t)p + PG) & ~(uintptr_t)(PG - 1)));
    memset(p, 1, 100);
    char *q = ALIGNED(4096, 4096);
    CHECK(q && in_pool(q) && ((uintptr_t)q & 4095) == 0);
    memset(q, 1, 4096);
    void *m = NULL;
#ifdef PL
    CHECK(posix_memalign(&m, 256, 1000) == 0);
#else
    m = ALIGNED(256, 1000);
#endif
    CHECK(m && in_pool(m) && ((uintptr_t)m & 255) == 0);
    uint64_t inel = spc()->ineligible;
    char *big = ALIGNED(8192, 100); /* over a page: the normal path */
    CHECK(big && !in_pool(big) && ((uintptr_t)big & 8191) == 0);
    CHECK_EQ_U(spc()->ineligible, inel + 1);
    FREE(big);
    FREE(m);
    FREE(q);
    FREE(p);
    CHECK_EQ_U(spc()->blocks_live, 0);
}

static void m_realloc(void)
{
    unsigned char *p = ALLOC(100);
    CHECK(p && in_pool(p));
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)i;
    unsigned char *q = REALLOC(p, 5000);
    CHECK(q && in_pool(q) && q != p);
    CHECK_EQ_U(SIZE(q), 5000);
    for (int i = 0; i < 100; i++)
        CHECK(q[i] == (unsigned char)i);
    CHECK(((uintptr_t)q + 5000 + 15) / 16 * 16 % PG == 0);
    CHECK_EQ_U(child_sig(read0, (volatile char *)p), SIGSEGV); /* the old one: quarantined */
    unsigned char *r = REALLOC(q, 10);
    CHECK(r && in_pool(r));
    for (int i = 0; i < 10; i++)
        CHECK(r[i] == (unsigned char)i);
    void *z = REALLOC(r, 0); /* frees it */
    (void)z;
    CHECK_EQ_U(spc()->blocks_live, 0);
    CHECK_EQ_U(spc()->allocs, 3);
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL);
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    CHECK(kib >= 0);
    return kib;
}

/* PT_QUARANTINE=0, PT_SPECIAL_MAX_PAGES=16: runs are reused once the
 * next-fit cursor wrapped (the whole region, 512 MiB, went by); calloc
 * blocks are zero on reused pages, and freed runs hold no memory. */
static void m_calloc(void)
{
    long rss0 = rss_kib();
    char *first = NULL;
    int reused = 0;
    for (int i = 0; i < 140000 && !reused; i++) {
        char *p = CALLOC(300);
        CHECK(p && in_pool(p));
        for (int j = 0; j < 300; j++)
            CHECK(p[j] == 0);
        if (!first)
            first = p;
        else if (p == first)
            reused = 1;
        memset(p, 0xff, 300);
        FREE(p);
    }
    CHECK(reused);
    long grown = rss_kib() - rss0;
    printf("rss grew by %ld KiB\n", grown);
    CHECK(grown < 32 * 1024);
}

#define NT 8
#define PER 3000
static void *thr(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    char *keep[16] = {0};
    for (int i = 0; i < PER; i++) {
        size_t n = 1 + rand_r(&seed) % 6000;
        int k = i % 16;
        if (keep[k]) {
            CHECK((unsigned char)keep[k][0] == (unsigned char)k);
            FREE(keep[k]);
        }
        keep[k] = ALLOC(n);
        CHECK(keep[k] != NULL);
        memset(keep[k], k, n);
    }
    for (int k = 0; k < 16; k++)
        FREE(keep[k]);
    return NULL;
}

static void m_threads(void)
{
    pthread_t t[NT];
    for (int i = 0; i < NT; i++)
        CHECK(pthread_create(&t[i], NULL, thr, (void *)(uintptr_t)(i + 1)) == 0);
    for (int i = 0; i < NT; i++)
        pthread_join(t[i], NULL);
    pt_seg_special *s = spc();
    CHECK_EQ_U(s->blocks_live, 0);
    CHECK_EQ_U(s->bytes_live, 0);
    CHECK_EQ_U(s->allocs, s->frees);
    CHECK(s->allocs > 0);
    CHECK_EQ_U(s->allocs + s->full + s->ineligible, NT * PER);
    CHECK(s->pages_used == s->pages_quarantined);
}

/* PT_SPECIAL_MAX_PAGES=16, PT_QUARANTINE=0: 8 blocks of 2 pages fill it */
static void m_full(void)
{
    char *b[9];
    for (int i = 0; i < 8; i++) {
        b[i] = ALLOC(100);
        CHECK(b[i] && in_pool(b[i]));
    }
    CHECK_EQ_U(spc()->pages_used, 16);
    b[8] = ALLOC(100);
    CHECK(b[8] && !in_pool(b[8]));
    memset(b[8], 1, 100);
    CHECK_EQ_U(spc()->full, 1);
    CHECK_EQ_U(SIZE(b[8]) >= 100, 1);
    pt_seg_header *h = seg();
    pt_seg_tagstat *ts = (pt_seg_tagstat *)((char *)h + h->tagstat_off);
    uint32_t *keys = (uint32_t *)((char *)h + h->keys_off);
    uint32_t full = 0;
    for (uint32_t i = 0; i <= h->max_tags; i++)
        if (keys[i])
            full += ts[i].special_full;
    CHECK_EQ_U(full, 1);
    for (int i = 0; i < 9; i++)
        FREE(b[i]);
    char *c = ALLOC(100); /* room again */
    CHECK(c && in_pool(c));
    FREE(c);
}

/* Switched on and off 1,000 times while 4 threads allocate and free,
 * blocks crossing the switches both ways. */
static volatile int stop;
static void *churn(void *arg)
{
    (void)arg;
    char *keep[64] = {0};
    unsigned i = 0;
    while (!stop) {
        unsigned k = i++ % 64;
        if (keep[k]) {
            CHECK(keep[k][0] == 5);
            FREE(keep[k]);
        }
        keep[k] = ALLOC(64 + k);
        CHECK(keep[k] != NULL);
        keep[k][0] = 5;
    }
    for (int k = 0; k < 64; k++)
        FREE(keep[k]);
    return NULL;
}

static void m_toggle(void)
{
    pt_seg_header *h = seg();
    pt_seg_special *s = spc();
    pt_seg_control *c = (pt_seg_control *)((char *)h + h->control_off);
    CHECK(s->sp_n == 1);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0);
    for (int i = 0; i < 1000; i++) {
        s->sp_n = (uint32_t)(i & 1);
        uint64_t g = __atomic_add_fetch(&c->gen, 1, __ATOMIC_RELEASE);
        ((volatile uint8_t *)(uintptr_t)h->kick_addr)[PT_KICK_CONTROL_BYTE] = 1;
        while (__atomic_load_n(&c->applied_gen, __ATOMIC_ACQUIRE) < g)
            FREE(ALLOC(1));
    }
    stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(s->allocs > 0);
    CHECK_EQ_U(s->blocks_live, 0);
    CHECK_EQ_U(s->allocs, s->frees);
    CHECK_EQ_U(c->bad_settings, 0);
}

static void m_fork(void)
{
    char *b[10];
    for (int i = 0; i < 10; i++) {
        b[i] = ALLOC(100 * (i + 1));
        CHECK(b[i] && in_pool(b[i]));
        memset(b[i], i, 100);
    }
    fflush(NULL);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        cached = NULL; /* the child's own segment */
        for (int i = 0; i < 10; i++) {
            CHECK(b[i][99] == i);
            FREE(b[i]);
        }
        for (int i = 0; i < 100; i++) {
            char *x = ALLOC(50);
            CHECK(x && in_pool(x));
            FREE(x);
        }
        CHECK_EQ_U(spc()->blocks_live, 0);
        _exit(0);
    }
    int st;
    CHECK(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    for (int i = 0; i < 10; i++) {
        CHECK(b[i][0] == i);
        FREE(b[i]);
    }
    CHECK_EQ_U(spc()->blocks_live, 0);
}

/* PT_SAMPLE_GUARD=100: about 1 in 100 allocations, uniform intervals of
 * mean 100 (the count's spread is small: 5 sigma is well within 20%). */
static void m_sample(void)
{
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        char *p = ALLOC(24);
        CHECK(p != NULL);
        p[0] = 1;
        FREE(p);
    }
    pt_seg_special *s = spc();
    printf("sampled %llu of %d\n", (unsigned long long)s->sampled, n);
    CHECK(s->sampled >= 1600 && s->sampled <= 2400);
    CHECK_EQ_U(s->sampled, s->allocs);
    CHECK_EQ_U(s->blocks_live, 0);
}

#ifndef PL
/* PT_HIT=Spc1 too: the special block's allocation and free are in the hit
 * ring, and its record has both stacks. */
static void m_hit(void)
{
    pt_seg_header *h = seg();
    pt_seg_ring *R = (pt_seg_ring *)((char *)h + h->rings_off);
    uint64_t h0 = R[PT_RING_HIT].head;
    char *p = ALLOC(100);
    CHECK(p && in_pool(p));
    pt_seg_spblk *b = record(p);
    CHECK(b && b->alloc_stack != 0 && b->kinds != 0);
    FREE(p);
    CHECK(b->free_stack != 0 && b->free_tid != 0);
    CHECK_EQ_U(R[PT_RING_HIT].head, h0 + 2);
    pt_seg_rec *rec = (pt_seg_rec *)((char *)h + R[PT_RING_HIT].records_off);
    pt_seg_rec *a = &rec[h0 % R[PT_RING_HIT].size], *f = &rec[(h0 + 1) % R[PT_RING_HIT].size];
    CHECK(a->op == PT_OP_ALLOC && a->addr == (uint64_t)(uintptr_t)p && a->size == 100);
    CHECK(f->op == PT_OP_FREE && f->addr == (uint64_t)(uintptr_t)p && f->size == 100);
    CHECK(a->tag == TAG && f->tag == TAG);
}
#endif

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    const char *m = argv[1];
#ifndef PL
    pt_free(pt_alloc(PT_PAGED, 1, PT_TAG("Init"))); /* the runtime is up */
#endif
    CHECK(seg() != NULL);
    if (!strcmp(m, "layout"))
        m_layout();
    else if (!strcmp(m, "exact"))
        m_exact();
    else if (!strcmp(m, "underrun"))
        m_underrun();
    else if (!strcmp(m, "slop") || !strcmp(m, "double") || !strcmp(m, "interior") ||
             !strcmp(m, "uaf"))
        m_errors(m);
    else if (!strcmp(m, "quarantine"))
        m_quarantine();
    else if (!strcmp(m, "aligned"))
        m_aligned();
    else if (!strcmp(m, "realloc"))
        m_realloc();
    else if (!strcmp(m, "calloc"))
        m_calloc();
    else if (!strcmp(m, "threads"))
        m_threads();
    else if (!strcmp(m, "full"))
        m_full();
    else if (!strcmp(m, "toggle"))
        m_toggle();
    else if (!strcmp(m, "fork"))
        m_fork();
    else if (!strcmp(m, "sample"))
        m_sample();
#ifndef PL
    else if (!strcmp(m, "hit"))
        m_hit();
#endif
    else
        CHECK(!"unknown mode");
    printf("ok\n");
    return 0;
}
