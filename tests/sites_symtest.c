/*
 * sites_symtest.c — the symbolizer of `pooltag sites` (src/lib/symbolize.c)
 * on this very process: its own functions (a PIE, so the load bias is not
 * 0) and libc, named through /proc/self/maps and through a module record
 * like the preload's (load bias + build-id), plus the cases that must not
 * name anything: unmapped addresses, a wrong build-id, junk maps text.
 */
#define _GNU_SOURCE
#include "pt_test.h"
#include "symbolize.h"

#include <link.h>
#include <string.h>
#include <unistd.h>

static const void *seen_ra;
static int call_line;

__attribute__((noinline)) static void callee(void)
{
    seen_ra = __builtin_return_address(0);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void caller_fn(void)
{
    call_line = __LINE__ + 1;
    callee();
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static struct {
    uint64_t bias, start, end;
    uint8_t bid[64];
    size_t bidlen;
} self;

/* The main program's record, as the preload's module table holds it. */
static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uint64_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
            lo = s < lo ? s : lo;
            hi = e > hi ? e : hi;
        }
        if (ph->p_type == PT_NOTE) {
            const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
            const char *end = p + ph->p_memsz;
            while (p + sizeof(ElfW(Nhdr)) <= end) {
                const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
                const char *name = p + sizeof *n;
                const char *desc = name + ((n->n_namesz + 3) & ~3u);
                if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
                    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= sizeof self.bid) {
                    memcpy(self.bid, desc, n->n_descsz);
                    self.bidlen = n->n_descsz;
                }
                p = desc + ((n->n_descsz + 3) & ~3u);
            }
        }
    }
    self.bias = info->dlpi_addr;
    self.start = lo;
    self.end = hi;
    return 1; /* the main program comes first */
}

static void check_caller(sym_ctx *c, const char *how)
{
    sym_info y;
    sym_lookup(c, (uint64_t)(uintptr_t)seen_ra, 1, &y);
    fprintf(stderr, "%s: %s!%s+0x%llx %s:%d\n", how, y.module ? y.module : "?",
            y.symbol ? y.symbol : "?", (unsigned long long)y.symoff, y.file ? y.file : "?",
            y.line);
    CHECK(y.module && strcmp(y.module, "sites_symtest") == 0);
    CHECK(y.symbol && strcmp(y.symbol, "caller_fn") == 0);
    CHECK(y.symoff > 0 && y.symoff < 256);
    CHECK_EQ_U(y.modoff, (uintptr_t)seen_ra - self.bias);
    CHECK(y.file && ends_with(y.file, "sites_symtest.c"));
    CHECK_EQ_U(y.line, call_line);
}

int main(void)
{
    caller_fn();
    dl_iterate_phdr(find_self, NULL);
    CHECK(self.end > self.start);
    CHECK(self.bias != 0); /* built as PIE: a real bias to get right */

    /* 1. Through /proc/self/maps, as for a live program linked with
     *    libpooltag. */
    char err[256];
    sym_ctx *c = sym_new(0);
    CHECK(c);
    int n = sym_add_proc_maps(c, (uint32_t)getpid(), err, sizeof err);
    CHECK(n >= 2); /* this program, libc, ld.so, libdw ... */
    check_caller(c, "maps");

    sym_info y;
    uint64_t gp = (uint64_t)(uintptr_t)&getpid;
    sym_lookup(c, gp, 0, &y);
    CHECK(y.module && strncmp(y.module, "libc.so", 7) == 0);
    CHECK(y.symbol && strstr(y.symbol, "getpid"));
    CHECK_EQ_U(y.symoff, 0);

    sym_lookup(c, 0x10, 1, &y); /* nothing maps page 0 */
    CHECK(y.module == NULL && y.symbol == NULL && y.file == NULL);
    sym_free(c);

    /* 2. A module record with the load bias and build-id (the preload's
     *    table). */
    c = sym_new(0);
    CHECK(c && self.bidlen > 0);
    CHECK(sym_add_module(c, "/proc/self/exe", NULL, self.bias, self.start, self.end, self.bid,
                         self.bidlen, 0) == 0);
    sym_lookup(c, (uint64_t)(uintptr_t)seen_ra, 1, &y);
    CHECK(y.module && strcmp(y.module, "exe") == 0); /* named after its path */
    CHECK(y.symbol && strcmp(y.symbol, "caller_fn") == 0);
    CHECK_EQ_U(y.line, call_line);
    sym_free(c);

    /* 3. The same record with another build-id: the file on disk is not the
     *    one that was loaded, so it must not name the address. */
    c = sym_new(0);
    uint8_t other[20];
    memset(other, 0xab, sizeof other);
    CHECK(sym_add_module(c, "/proc/self/exe", NULL, self.bias, self.start, self.end, other,
                         sizeof other, 0) == 0);
    sym_lookup(c, (uint64_t)(uintptr_t)seen_ra, 1, &y);
    CHECK(y.module && y.symbol == NULL && y.file == NULL);
    CHECK(y.note && strstr(y.note, "build-id differs"));
    CHECK_EQ_U(y.modoff, (uintptr_t)seen_ra - self.bias);

    /* An unloaded record is used only when no loaded one covers the
     *    address: add a correct one after it, flagged unloaded, and a
     *    correct loaded one; the loaded one wins over the unloaded. */
    CHECK(sym_add_module(c, "/proc/self/exe", NULL, self.bias, self.start, self.end, self.bid,
                         self.bidlen, SYM_UNLOADED) == 0);
    sym_lookup(c, (uint64_t)(uintptr_t)seen_ra, 1, &y);
    CHECK(y.symbol && strcmp(y.symbol, "caller_fn") == 0);
    sym_free(c);

    /* 4. Maps text: junk and non-file mappings add nothing; a missing file
     *    names its module but nothing inside it. */
    c = sym_new(0);
    CHECK(sym_add_maps_text(c,
                            "garbage\n\n"
                            "1000-0 r-xp 00000000 08:01 12 /bin/true\n"
                            "7ffd0000-7ffd1000 rw-p 00000000 00:00 0 [stack]\n"
                            "7ffd2000-7ffd3000 r-xp 00000000 00:00 0 [vdso]\n"
                            "50000-60000 rw-s 00000000 00:01 99 /memfd:pooltag (deleted)\n"
                            "70000-80000 r-xp 00001000 08:01 77 /no/offset/zero.so\n",
                            0) == 0);
    CHECK(sym_add_maps_text(c,
                            "10000000-10001000 r--p 00000000 08:01 5 /nonexistent/libgone.so\n"
                            "10001000-10003000 r-xp 00001000 08:01 5 /nonexistent/libgone.so\n",
                            0) == 1);
    CHECK_EQ_U(sym_nmodules(c), 1);
    sym_lookup(c, 0x10001234, 1, &y);
    CHECK(y.module && strcmp(y.module, "libgone.so") == 0 && !y.symbol);
    CHECK_EQ_U(y.modoff, 0x1234);
    CHECK(y.note && strstr(y.note, "cannot read"));
    sym_free(c);
    fprintf(stderr, "sites_symtest: ok\n");
    return 0;
}
