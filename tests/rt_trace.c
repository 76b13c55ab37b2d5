/* rt_trace MODE — runs under libpooltag-preload.so (rt_trace.sh) and checks
 * stacks, hit tags and pool tracking by reading its own segment (the
 * "/memfd:pooltag" mapping in /proc/self/maps) with the layout of
 * src/common/segment.h, and by writing its control block the way an
 * outside writer does (settings, gen + 1, OR PT_KICK_CONTROL into the kick
 * word).  Not linked with libpooltag: the pt_* functions the preload
 * exports are looked up with dlsym.
 *
 * Modes: chains (known call chains, two threads), wrap (ring wrap and
 * restart), toggle (hit and verify switched 1,000 times under 8 threads),
 * realloc (traced free/realloc, untraced block of the same tag), verify
 * (a plugin that frees everything, then one that leaks 3 blocks), fork. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pooltag.h"
#include "pt_test.h"
#include "segment.h"

#define NOINLINE __attribute__((noinline))

static uint32_t (*tag_push)(uint32_t);
static void (*tag_pop)(uint32_t);
static int (*tag_read)(uint32_t, pt_tag_info *);

static uint32_t T(const char *text)
{
    uint32_t tag;
    CHECK(pt_tag_parse(text, &tag) == 0);
    return tag;
}

/* ---- the segment ---------------------------------------------------------- */

static char maps[1 << 16];

static pt_seg_header *seg(void)
{
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

static pt_seg_control *control(pt_seg_header *h)
{
    return (pt_seg_control *)((char *)h + h->control_off);
}

static pt_seg_ring *ring(pt_seg_header *h, unsigned r)
{
    return (pt_seg_ring *)((char *)h + h->rings_off) + r;
}

/* Copy record i of ring r; 0 if it is not (or no longer) there. */
static int rec_get(pt_seg_header *h, unsigned r, uint64_t i, pt_seg_rec *out)
{
    pt_seg_ring *R = ring(h, r);
    pt_seg_rec *d = (pt_seg_rec *)((char *)h + R->records_off) + i % R->size;
    uint64_t s1 = __atomic_load_n(&d->seq, __ATOMIC_ACQUIRE);
    memcpy(out, d, sizeof *out);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return s1 == i + 1 && __atomic_load_n(&d->seq, __ATOMIC_RELAXED) == i + 1;
}

/* The reader-visible window of ring r: [*lo, *hi). */
static void window(pt_seg_header *h, unsigned r, uint64_t *lo, uint64_t *hi)
{
    pt_seg_ring *R = ring(h, r);
    *hi = __atomic_load_n(&R->head, __ATOMIC_ACQUIRE);
    uint64_t b = R->base;
    *lo = *hi > R->size && *hi - R->size > b ? *hi - R->size : b;
}

/* Frames of stack id s. */
static uint32_t stack_of(pt_seg_header *h, uint32_t s, const uint64_t **f)
{
    CHECK(s >= 1 && s <= h->max_stacks);
    uint64_t v = ((uint64_t *)((char *)h + h->stacks_off))[s - 1];
    CHECK(v != 0);
    *f = (uint64_t *)((char *)h + h->frames_off) + pt_stk_off(v);
    return pt_stk_depth(v);
}

/* The outside writer's protocol, from inside: settings written by `set`,
 * then gen + 1, then the kick; then allocate until it is applied. */
static void ctl_commit(pt_seg_header *h)
{
    pt_seg_control *c = control(h);
    uint64_t g = __atomic_add_fetch(&c->gen, 1, __ATOMIC_RELEASE);
    __atomic_fetch_or((uint32_t *)(uintptr_t)h->kick_addr, PT_KICK_CONTROL, __ATOMIC_RELEASE);
    while (__atomic_load_n(&c->applied_gen, __ATOMIC_ACQUIRE) < g)
        free(malloc(1));
}

static void set_hit(pt_seg_header *h, const char *pat)
{
    pt_seg_control *c = control(h);
    if (pat) {
        memset(c->hit_pat[0], 0, PT_CTL_PAT_LEN);
        strcpy(c->hit_pat[0], pat);
    }
    c->hit_n = pat ? 1 : 0;
}

static void set_verify(pt_seg_header *h, const char *glob)
{
    pt_seg_control *c = control(h);
    if (glob) {
        memset(c->verify_glob[0], 0, PT_CTL_GLOB_LEN);
        strcpy(c->verify_glob[0], glob);
    }
    c->verify_n = glob ? 1 : 0;
}

static uint32_t gettid_(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

static void *volatile sink;

/* ---- (a) known call chains ------------------------------------------------ */

#define PER 10
typedef struct expect {
    void *p;
    int depth;           /* 1..3: functions between run_chains and malloc */
    void *ra[4];         /* return addresses: ra[k] = frame[k + 1]       */
    uint32_t tid;
} expect;
static expect exp_[2][3 * PER];
static __thread void *cur_ra[3];

NOINLINE void *leaf(size_t n)
{
    cur_ra[0] = __builtin_return_address(0);
    void *p = malloc(n);
    sink = p;
    return p;
}

NOINLINE void *mid(size_t n)
{
    cur_ra[1] = __builtin_return_address(0);
    void *p = leaf(n);
    sink = p;
    return p;
}

NOINLINE void *top(size_t n)
{
    cur_ra[2] = __builtin_return_address(0);
    void *p = mid(n);
    sink = p;
    return p;
}

NOINLINE void free_all(void **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    sink = v;
}

NOINLINE void *run_chains(void *arg)
{
    int t = (int)(intptr_t)arg;
    uint32_t hitt = T("Hitt"), othr = T("Othr");
    void *others[3 * PER];
    for (int i = 0; i < 3 * PER; i++) {
        int depth = 1 + i % 3;
        uint32_t old = tag_push(hitt);
        void *p = depth == 1 ? leaf(64) : depth == 2 ? mid(64) : top(64);
        tag_pop(old);
        expect *e = &exp_[t][i];
        e->p = p;
        e->depth = depth;
        e->tid = gettid_();
        e->ra[0] = cur_ra[0];
        e->ra[1] = depth >= 2 ? cur_ra[1] : NULL;
        e->ra[2] = depth >= 3 ? cur_ra[2] : NULL;
        old = tag_push(othr);
        others[i] = leaf(64); /* not a hit tag: no record */
        tag_pop(old);
    }
    void *v[3 * PER];
    for (int i = 0; i < 3 * PER; i++)
        v[i] = exp_[t][i].p;
    free_all(v, 3 * PER);
    free_all(others, 3 * PER);
    return NULL;
}

static const char *fname(uint64_t a)
{
    Dl_info di;
    if (dladdr((void *)(uintptr_t)a, &di) && di.dli_sname)
        return di.dli_sname;
    return "?";
}

static int mode_chains(void)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    CHECK(c->gen == 1 && c->applied_gen == 1 && c->hit_n == 1 && c->writer_pid == 0);
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&th[t], NULL, run_chains, (void *)(intptr_t)t) == 0);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    uint64_t lo, hi;
    window(h, PT_RING_HIT, &lo, &hi);
    int allocs = 0, frees = 0;
    uint32_t ids[3] = {0, 0, 0};
    for (uint64_t i = lo; i < hi; i++) {
        pt_seg_rec r;
        CHECK(rec_get(h, PT_RING_HIT, i, &r));
        CHECK(r.tag == T("Hitt"));
        const uint64_t *f;
        uint32_t n = stack_of(h, r.stack, &f);
        if (r.op == PT_OP_FREE) {
            CHECK(strcmp(fname(f[0]), "free_all") == 0);
            frees++;
            continue;
        }
        CHECK(r.op == PT_OP_ALLOC && r.size == 64);
        const expect *e = NULL;
        for (int t = 0; t < 2 && !e; t++)
            for (int k = 0; k < 3 * PER && !e; k++)
                if (exp_[t][k].p == (void *)(uintptr_t)r.addr && exp_[t][k].tid == r.tid)
                    e = &exp_[t][k];
        CHECK(e != NULL);
        /* frame[0] in leaf (the malloc call), then exactly the chain */
        if (strcmp(fname(f[0]), "leaf") != 0 || f[1] != (uint64_t)(uintptr_t)e->ra[0])
            for (uint32_t k = 0; k < n; k++)
                fprintf(stderr, "frame %u %#lx %s (depth %d, ra0 %p)\n", k, (unsigned long)f[k],
                        fname(f[k]), e->depth, e->ra[0]);
        CHECK(strcmp(fname(f[0]), "leaf") == 0);
        CHECK(n > (uint32_t)e->depth);
        for (int k = 0; k < e->depth; k++)
            CHECK(f[k + 1] == (uint64_t)(uintptr_t)e->ra[k]);
        CHECK(strcmp(fname(f[e->depth]), "run_chains") == 0);
        /* one stack id per chain, the same in both threads */
        if (!ids[e->depth - 1])
            ids[e->depth - 1] = r.stack;
        CHECK(ids[e->depth - 1] == r.stack);
        allocs++;
    }
    CHECK(allocs == 2 * 3 * PER && frees == 2 * 3 * PER);
    CHECK(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    CHECK(c->captures >= 4 * 3 * PER && c->stacks_used >= 4 && c->stacks_dropped == 0);
    CHECK(c->hit_matched >= 1 && c->bad_settings == 0);
    printf("ok\n");
    return 0;
}

/* ---- (b) ring wrap and restart --------------------------------------------- */

static void check_window(pt_seg_header *h, uint64_t want_n)
{
    uint64_t lo, hi;
    window(h, PT_RING_HIT, &lo, &hi);
    CHECK(hi - lo == want_n);
    for (uint64_t i = lo; i < hi; i++) {
        pt_seg_rec r;
        CHECK(rec_get(h, PT_RING_HIT, i, &r)); /* seq == i + 1: consecutive */
    }
    /* nothing older is visible: the slot of lo - 1 holds a newer record */
    if (lo > 0 && lo > ring(h, PT_RING_HIT)->base) {
        pt_seg_rec r;
        CHECK(!rec_get(h, PT_RING_HIT, lo - 1, &r));
    }
}

static int mode_wrap(void)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    pt_seg_ring *R = ring(h, PT_RING_HIT);
    CHECK(R->cap == 64 && R->size == 64 && c->hit_ring == 64);
    uint32_t old = tag_push(T("Hitt"));
    void *last = NULL;
    for (int i = 0; i < 100; i++) {
        last = malloc(10 + (size_t)i);
        free(last);
    }
    tag_pop(old);
    CHECK(R->head == 200);
    check_window(h, 64);
    pt_seg_rec r;
    CHECK(rec_get(h, PT_RING_HIT, 199, &r) && r.op == PT_OP_FREE &&
          r.addr == (uint64_t)(uintptr_t)last && r.size == 109);
    /* a smaller ring: restarted at the head */
    c->hit_ring = 16;
    uint64_t before = R->head;
    ctl_commit(h);
    CHECK(R->size == 16 && R->base == before && c->bad_settings == 0);
    check_window(h, 0);
    old = tag_push(T("Hitt"));
    for (int i = 0; i < 5; i++)
        free(malloc(8));
    tag_pop(old);
    check_window(h, 10);
    old = tag_push(T("Hitt"));
    for (int i = 0; i < 50; i++)
        free(malloc(8));
    tag_pop(old);
    check_window(h, 16);
    /* a size beyond the capacity is refused; the ring stays */
    c->hit_ring = 65;
    ctl_commit(h);
    CHECK(c->bad_settings == 1 && R->size == 16);
    /* an unterminated pattern is refused; the old one stays */
    c->hit_ring = 16;
    memset(c->hit_pat[0], 'x', PT_CTL_PAT_LEN);
    ctl_commit(h);
    CHECK(c->bad_settings == 1 && c->hit_matched == 1);
    printf("ok\n");
    return 0;
}

/* ---- (c) switching 1,000 times under 8 threads ------------------------------- */

#define WORKERS 8
static int stop_toggle;
static uint64_t rounds[WORKERS];
static uint64_t progress; /* rounds done by all workers */

static void *worker(void *arg)
{
    uint64_t *done = arg;
    uint32_t ta = T("TglA"), tb = T("TglB");
    void *keep[16] = {0};
    uint64_t i;
    /* at least 1,000 rounds, and on until the switching is over */
    for (i = 0; i < 1000 || !__atomic_load_n(&stop_toggle, __ATOMIC_ACQUIRE); i++) {
        uint32_t old = tag_push((i & 1) ? ta : tb);
        void *p = malloc(32 + (size_t)(i & 15));
        CHECK(p != NULL);
        tag_pop(old);
        /* blocks live across switches: traced ones freed after hit is off */
        if (keep[i & 15])
            free(keep[i & 15]);
        keep[i & 15] = p;
        __atomic_fetch_add(&progress, 1, __ATOMIC_RELAXED);
        if ((i & 63) == 63)
            sched_yield(); /* the controller gets the CPU often (2 cores) */
        if ((i & 255) == 0) {
            void *q = realloc(p, 200);
            CHECK(q != NULL);
            keep[i & 15] = realloc(q, 32 + (size_t)(i & 15));
            CHECK(keep[i & 15] != NULL);
        }
    }
    for (int k = 0; k < 16; k++)
        free(keep[k]);
    *done = i;
    return NULL;
}

static int mode_toggle(void)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    pthread_t th[WORKERS];
    for (int t = 0; t < WORKERS; t++)
        CHECK(pthread_create(&th[t], NULL, worker, &rounds[t]) == 0);
    for (int i = 0; i < 1000; i++) {
        set_hit(h, (i & 1) ? NULL : "TglA");
        set_verify(h, (i & 2) ? NULL : "rt_trace");
        ctl_commit(h);
        /* the workers allocate and free under each setting */
        uint64_t p0 = __atomic_load_n(&progress, __ATOMIC_RELAXED);
        while (__atomic_load_n(&progress, __ATOMIC_RELAXED) < p0 + 64)
            sched_yield();
    }
    __atomic_store_n(&stop_toggle, 1, __ATOMIC_RELEASE);
    for (int t = 0; t < WORKERS; t++)
        pthread_join(th[t], NULL);
    set_hit(h, NULL);
    set_verify(h, NULL);
    ctl_commit(h);
    pt_tag_info a, b;
    CHECK(tag_read(T("TglA"), &a) == 0 && tag_read(T("TglB"), &b) == 0);
    /* the known totals: each round one block of TglA (odd rounds) or TglB
     * (even ones) of 32 + i % 16 bytes; every 256th round (even: TglB)
     * two reallocs, each an alloc and a free of the tag */
    uint64_t allocs_a = 0, allocs_b = 0, bytes_a = 0, bytes_b = 0;
    for (int t = 0; t < WORKERS; t++) {
        CHECK(rounds[t] >= 1000);
        for (uint64_t i = 0; i < rounds[t]; i++) {
            *((i & 1) ? &allocs_a : &allocs_b) += 1 + ((i & 255) == 0 ? 2 : 0);
            *((i & 1) ? &bytes_a : &bytes_b) += 32 + (i & 15);
            if ((i & 255) == 0)
                bytes_b += 200 + 32 + (i & 15);
        }
    }
    CHECK_EQ_U(a.pool[PT_PAGED].allocs, allocs_a);
    CHECK_EQ_U(b.pool[PT_PAGED].allocs, allocs_b);
    CHECK(a.pool[PT_PAGED].frees == a.pool[PT_PAGED].allocs);
    CHECK(b.pool[PT_PAGED].frees == b.pool[PT_PAGED].allocs);
    CHECK(a.pool[PT_PAGED].bytes_alloc == a.pool[PT_PAGED].bytes_freed);
    CHECK(b.pool[PT_PAGED].bytes_alloc == b.pool[PT_PAGED].bytes_freed);
    CHECK_EQ_U(a.pool[PT_PAGED].bytes_alloc, bytes_a);
    CHECK_EQ_U(b.pool[PT_PAGED].bytes_alloc, bytes_b);
    CHECK(c->applied_gen == c->gen && c->gen == 1001 && c->bad_settings == 0);
    CHECK(c->tracked_used == 0);
    CHECK(ring(h, PT_RING_HIT)->head > 0 && ring(h, PT_RING_VERIFY)->head > 0);
    printf("ok\n");
    return 0;
}

/* ---- (d) traced free and realloc, untraced block of the same tag ---------------- */

static int mode_realloc(void)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    CHECK(c->hit_n == 0 && c->gen == 0);
    uint32_t old = tag_push(T("Hitt"));
    char *u = malloc(40); /* before hit: never recorded */
    CHECK(u != NULL);
    tag_pop(old);
    set_hit(h, "Hitt");
    ctl_commit(h);
    CHECK(c->hit_matched == 1);
    old = tag_push(T("Hitt"));
    char *t = malloc(24);
    strcpy(t, "traced block");
    char *t2 = realloc(t, 5000);
    CHECK(t2 != NULL && strcmp(t2, "traced block") == 0);
    tag_pop(old);
    free(t2);
    free(u);
    uint64_t lo, hi;
    window(h, PT_RING_HIT, &lo, &hi);
    CHECK(hi - lo == 4);
    int seen = 0;
    for (uint64_t i = lo; i < hi; i++) {
        pt_seg_rec r;
        CHECK(rec_get(h, PT_RING_HIT, i, &r));
        CHECK(r.addr != (uint64_t)(uintptr_t)u && r.tag == T("Hitt") && r.stack != 0);
        if (r.op == PT_OP_ALLOC && r.addr == (uint64_t)(uintptr_t)t && r.size == 24)
            seen |= 1;
        else if (r.op == PT_OP_ALLOC && r.addr == (uint64_t)(uintptr_t)t2 && r.size == 5000)
            seen |= 2;
        else if (r.op == PT_OP_FREE && r.addr == (uint64_t)(uintptr_t)t && r.size == 24)
            seen |= 4;
        else if (r.op == PT_OP_FREE && r.addr == (uint64_t)(uintptr_t)t2 && r.size == 5000)
            seen |= 8;
    }
    CHECK(seen == 15);
    pt_tag_info ti;
    CHECK(tag_read(T("Hitt"), &ti) == 0);
    CHECK(ti.pool[PT_PAGED].allocs == 3 && ti.pool[PT_PAGED].frees == 3);
    printf("ok\n");
    return 0;
}

/* ---- (e) verify: leaks at dlclose ------------------------------------------------ */

static pt_seg_vstat *vstat_of(pt_seg_header *h, const char *base, int live)
{
    pt_seg_module *m = (pt_seg_module *)((char *)h + h->modules_off);
    pt_seg_vstat *v = (pt_seg_vstat *)((char *)h + h->vstats_off);
    for (uint32_t i = h->modules_used; i-- > 0;) {
        const char *b = strrchr(m[i].path, '/');
        if (strcmp(b ? b + 1 : m[i].path, base) == 0 &&
            !!(m[i].flags & PT_MOD_UNLOADED) != live)
            return &v[i];
    }
    return NULL;
}

static int mode_verify(const char *plugin)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    CHECK(c->verify_n == 1);
    for (int round = 0; round < 2; round++) {
        int leak = round ? 3 : 0;
        void *dl = dlopen(plugin, RTLD_NOW);
        CHECK(dl != NULL);
        int (*work)(int, int) = (int (*)(int, int))dlsym(dl, "plug_work");
        CHECK(work && work(5, leak) == 0);
        pt_seg_vstat *v = vstat_of(h, "librt_trace_plug.so", 1);
        CHECK(v && (v->flags & PT_VS_VERIFIED) && v->attempted == 5 && v->succeeded == 5 &&
              v->untagged == 5 && v->frees == (uint64_t)(5 - leak) &&
              v->pool[PT_PAGED].cur_blocks == leak && v->pool[PT_PAGED].peak_blocks == 5);
        CHECK(c->tracked_used >= (uint64_t)leak);
        dlclose(dl);
        CHECK(c->leaks_seq == (uint64_t)(round ? 1 : 0));
        CHECK(vstat_of(h, "librt_trace_plug.so", 1) == NULL);
    }
    pt_seg_leak *L = (pt_seg_leak *)((char *)h + h->leaks_off);
    CHECK(L[0].seq == 1 && L[0].blocks == 3 && L[0].bytes == 100 + 101 + 102 &&
          L[0].reason == PT_LEAK_UNLOAD);
    pt_seg_module *m = (pt_seg_module *)((char *)h + h->modules_off);
    CHECK(strstr(m[L[0].module - 1].path, "librt_trace_plug.so") != NULL);
    pt_seg_tracked *t = (pt_seg_tracked *)((char *)h + h->tracked_off);
    int leaked = 0;
    for (uint64_t i = 0; i < c->tracked_hw; i++)
        if (t[i].addr && t[i].module == L[0].module) {
            CHECK(t[i].flags & PT_TRK_LEAKED);
            CHECK(t[i].module == L[0].module && t[i].stack != 0);
            leaked++;
        }
    CHECK(leaked == 3);
    printf("ok\n");
    return 0;
}

/* ---- (f) fork ---------------------------------------------------------------------- */

static int mode_fork(void)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    uint32_t old = tag_push(T("Hitt"));
    void *p = malloc(10);
    tag_pop(old);
    CHECK(ring(h, PT_RING_HIT)->head == 1 && c->stacks_used >= 1);
    uint64_t gen = c->gen;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pt_seg_header *ch = seg();
        pt_seg_control *cc = control(ch);
        CHECK(ch != h && ch->pid == (uint32_t)getpid());
        CHECK(ring(ch, PT_RING_HIT)->head == 0 && ring(ch, PT_RING_VERIFY)->head == 0);
        CHECK(cc->stacks_used == 0 && cc->frames_used == 0 && cc->tracked_used == 0 &&
              cc->captures == 0);
        CHECK(cc->hit_n == 1 && strcmp(cc->hit_pat[0], "Hitt") == 0 && cc->verify_n == 1 &&
              strcmp(cc->verify_glob[0], "nothing-here.so") == 0 && cc->gen == gen &&
              cc->applied_gen == gen && cc->depth == 7);
        free(p); /* the parent's block: not recorded in the child */
        old = tag_push(T("Hitt"));
        free(malloc(10)); /* hit stays on */
        tag_pop(old);
        CHECK(ring(ch, PT_RING_HIT)->head == 2 && cc->stacks_used >= 1);
        const uint64_t *f;
        pt_seg_rec r;
        CHECK(rec_get(ch, PT_RING_HIT, 0, &r) && stack_of(ch, r.stack, &f) <= 7);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(p);
    CHECK(ring(h, PT_RING_HIT)->head == 2);
    printf("ok\n");
    return 0;
}

/* ---- leaks at exit: the verified main program keeps 2 blocks ---------------- */

static void *kept[2];

static int mode_exitleak(void)
{
    pt_seg_header *h = seg();
    pt_seg_control *c = control(h);
    CHECK(c->verify_n == 1 && c->verify_matched == 1);
    kept[0] = malloc(77);
    kept[1] = malloc(78);
    void *gone = malloc(79);
    free(gone);
    CHECK(c->tracked_used == 2 && c->leaks_seq == 0);
    printf("ok\n");
    fflush(stdout);
    return 0; /* the check at exit reports kept[] */
}

int main(int argc, char **argv)
{
    tag_push = (uint32_t(*)(uint32_t))dlsym(RTLD_DEFAULT, "pt_tag_push");
    tag_pop = (void (*)(uint32_t))dlsym(RTLD_DEFAULT, "pt_tag_pop");
    tag_read = (int (*)(uint32_t, pt_tag_info *))dlsym(RTLD_DEFAULT, "pt_tag_read");
    if (!tag_push || !tag_pop || !tag_read) {
        fprintf(stderr, "rt_trace: run me under libpooltag-preload.so\n");
        return 2;
    }
    free(malloc(1)); /* the runtime is up */
    const char *m = argc > 1 ? argv[1] : "";
    if (!strcmp(m, "chains"))
        return mode_chains();
    if (!strcmp(m, "wrap"))
        return mode_wrap();
    if (!strcmp(m, "toggle"))
        return mode_toggle();
    if (!strcmp(m, "realloc"))
        return mode_realloc();
    if (!strcmp(m, "verify") && argc > 2)
        return mode_verify(argv[2]);
    if (!strcmp(m, "fork"))
        return mode_fork();
    if (!strcmp(m, "exitleak"))
        return mode_exitleak();
    fprintf(stderr, "usage: rt_trace chains|wrap|toggle|realloc|verify PLUGIN|fork\n");
    return 2;
}
