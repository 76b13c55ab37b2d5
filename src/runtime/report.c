/*
 * report.c — diagnostics that never allocate.
 *
 * Caller errors are written to stderr with write(2) from stack buffers and
 * recorded in the segment's error ring (PT_SEG_ERRORS records), so that
 * `pooltag vm` on a live process, a snapshot or a core file shows them too.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void pt__bputs(pt_buf *b, const char *s)
{
    while (*s && b->len + 1 < b->cap)
        b->p[b->len++] = *s++;
    b->p[b->len < b->cap ? b->len : b->cap - 1] = 0;
}

void pt__bputu(pt_buf *b, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    pt__bputs(b, tmp + i);
}

void pt__bputx(pt_buf *b, uint64_t v)
{
    static const char dig[] = "0123456789abcdef";
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = dig[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    pt__bputs(b, tmp + i);
}

void pt__bputtag(pt_buf *b, uint32_t tag)
{
    char t[PT_TAG_TEXT_MAX];
    pt__bputs(b, "'");
    pt__bputs(b, pt_tag_text(tag, t));
    pt__bputs(b, "'");
}

void pt__write_stderr(const char *s, size_t n)
{
    int saved = errno;
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        s += w;
        n -= (size_t)w;
    }
    errno = saved;
}

void pt__warn(const char *msg1, const char *msg2)
{
    char buf[512];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: ");
    pt__bputs(&b, msg1);
    if (msg2)
        pt__bputs(&b, msg2);
    pt__bputs(&b, "\n");
    pt__write_stderr(b.p, b.len);
}

static const char *kind_text(uint32_t kind)
{
    switch (kind) {
    case PT_ERR_BAD_POINTER:
        return "bad pointer: not a live pooltag block (never allocated by "
               "pooltag, already freed, or its header was overwritten)";
    case PT_ERR_DOUBLE_FREE:
        return "double free";
    case PT_ERR_TAG_MISMATCH:
        return "tag mismatch in pt_free_tag";
    default:
        return "error";
    }
}

static void record(uint32_t kind, const void *addr, uint32_t tag,
                   uint32_t tag2, uint64_t size)
{
    pt_seg_header *h = pt__seg;
    if (!h)
        return;
    uint64_t n = __atomic_fetch_add(&h->errors_total, 1, __ATOMIC_RELAXED);
    pt_seg_error *ring = (pt_seg_error *)((char *)h + h->errors_off);
    pt_seg_error *e = &ring[n % PT_SEG_ERRORS];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    __atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
    e->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    e->addr = (uint64_t)(uintptr_t)addr;
    e->size = size;
    e->kind = kind;
    e->tag = tag;
    e->tag2 = tag2;
    e->tid = pt__gettid();
    __atomic_store_n(&e->seq, n + 1, __ATOMIC_RELEASE);
}

void pt__report(uint32_t kind, const void *addr, uint32_t tag, uint32_t tag2,
                uint64_t size, int size_known)
{
    record(kind, addr, tag, tag2, size_known ? size : 0);

    char buf[512];
    pt_buf b = {buf, 0, sizeof buf};
    pt__bputs(&b, "pooltag: ");
    pt__bputs(&b, kind_text(kind));
    pt__bputs(&b, ": address ");
    pt__bputx(&b, (uint64_t)(uintptr_t)addr);
    if (kind == PT_ERR_TAG_MISMATCH) {
        pt__bputs(&b, ", block tag ");
        pt__bputtag(&b, tag);
        pt__bputs(&b, ", caller said ");
        pt__bputtag(&b, tag2);
    } else if (tag) {
        pt__bputs(&b, ", tag ");
        pt__bputtag(&b, tag);
    }
    if (size_known) {
        pt__bputs(&b, ", size ");
        pt__bputu(&b, size);
    }
    pt__bputs(&b, ", pid ");
    pt__bputu(&b, (uint64_t)getpid());
    pt__bputs(&b, ", tid ");
    pt__bputu(&b, pt__gettid());
    pt__bputs(&b, pt__opt.on_error == PT_ONERR_ABORT ? " (PT_ON_ERROR=abort)\n"
                                                     : "\n");
    pt__write_stderr(b.p, b.len);
    if (pt__opt.on_error == PT_ONERR_ABORT)
        abort();
}
