/*
 * unwind_cfi.c — x86-64 CFI stack unwinder for use inside malloc
 * (prototype, see unwind_cfi.h).
 *
 * Three layers, each fixed-size and allocation-free:
 *  1. module table: [text start, end) -> .eh_frame_hdr, filled from
 *     dl_iterate_phdr on a miss (loader lock: miss path only);
 *  2. rule cache: PC -> {CFA = rsp+N | rbp+N, rbp saved at CFA-8k or not,
 *     return address at CFA-8, end of stack}, one 64-bit word per slot,
 *     written and read with relaxed atomics (a torn or racing slot can only
 *     be a whole other PC's word, and the key check rejects it);
 *  3. the CFA interpreter (cache miss): CIE + FDE, DW_CFA_def_cfa*,
 *     advance_loc*, offset*, restore*, remember/restore_state; rules for
 *     registers it does not track (rbx, r12..r15) are parsed and ignored;
 *     anything it cannot evaluate for CFA/rbp/RA stops the walk.
 */
#define _GNU_SOURCE
#include "unwind_cfi.h"

#include <link.h>
#include <stdint.h>
#include <string.h>

#if !defined(__x86_64__)
#error "unwind_cfi.c: x86-64 only"
#endif

#define R_RBP 6
#define R_RSP 7
#define R_RA 16

/* ---------------------------------------------------------------- stats */
/* Misses, scans and stops: shared relaxed atomics (rare).  Hits: counted
 * only with -DPT_CFI_COUNT_HITS — a shared atomic add per frame cost more
 * than the rest of the frame (measured: 120 -> 86 ns a walk of 14). */
static struct pt_cfi_stats st;
static __thread const char *last_stop __attribute__((tls_model("initial-exec"))) = "none";
#define BUMP(f) __atomic_fetch_add(&st.f, 1, __ATOMIC_RELAXED)
void pt_cfi_stats_get(struct pt_cfi_stats *out) { *out = st; }
const char *pt_cfi_last_stop(void) { return last_stop; }
static int stop(const char *why)
{
    last_stop = why;
    BUMP(stops);
    return 0;
}

/* --------------------------------------------------------- module table */
#define MOD_MAX 512
struct mod {
    uintptr_t lo, hi;      /* executable PT_LOAD range */
    const uint8_t *hdr;    /* .eh_frame_hdr, NULL: none */
    uint32_t ready;        /* published with release */
};
static struct mod mods[MOD_MAX];
static uint32_t nmods; /* slots reserved (fetch_add) */

struct scan_arg { uintptr_t pc; int found; };

static int mod_known(uintptr_t lo)
{
    uint32_t n = __atomic_load_n(&nmods, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < MOD_MAX; i++)
        if (__atomic_load_n(&mods[i].ready, __ATOMIC_ACQUIRE) && mods[i].lo == lo)
            return 1;
    return 0;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct scan_arg *a = data;
    const uint8_t *hdr = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
            hdr = (const uint8_t *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + p->p_vaddr, hi = lo + p->p_memsz;
        if (a->pc >= lo && a->pc < hi)
            a->found = 1;
        if (mod_known(lo))
            continue;
        uint32_t k = __atomic_fetch_add(&nmods, 1, __ATOMIC_ACQ_REL);
        if (k >= MOD_MAX)
            return 1; /* table full: a PC there is a stop */
        mods[k].lo = lo;
        mods[k].hi = hi;
        mods[k].hdr = hdr;
        __atomic_store_n(&mods[k].ready, 1, __ATOMIC_RELEASE);
    }
    return 0;
}

static const struct mod *mod_find(uintptr_t pc)
{
    for (int pass = 0; pass < 2; pass++) {
        uint32_t n = __atomic_load_n(&nmods, __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; i < n && i < MOD_MAX; i++) {
            const struct mod *m = &mods[i];
            if (__atomic_load_n(&m->ready, __ATOMIC_ACQUIRE) && pc >= m->lo && pc < m->hi)
                return m->hdr ? m : NULL;
        }
        if (pass)
            break;
        /* Miss: takes the loader lock (see unwind_cfi.h). */
        BUMP(module_scans);
        struct scan_arg a = { pc, 0 };
        dl_iterate_phdr(scan_cb, &a);
        if (!a.found)
            return NULL;
    }
    return NULL;
}

/* ------------------------------------------------------ DWARF decoding */
struct rd { const uint8_t *p, *end; int bad; };

static uint64_t uleb(struct rd *r)
{
    uint64_t v = 0;
    unsigned s = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (s < 64)
            v |= (uint64_t)(b & 0x7f) << s;
        s += 7;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t sleb(struct rd *r)
{
    uint64_t v = 0; /* built unsigned: no signed shifts */
    unsigned s = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (s < 64)
            v |= (uint64_t)(b & 0x7f) << s;
        s += 7;
        if (!(b & 0x80)) {
            if (s < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << s;
            return (int64_t)v;
        }
    }
    r->bad = 1;
    return 0;
}

#define RD(T, r) ({ T v_ = 0; if ((r)->p + sizeof(T) <= (r)->end) { memcpy(&v_, (r)->p, sizeof(T)); (r)->p += sizeof(T); } else (r)->bad = 1; v_; })

/* A DW_EH_PE-encoded pointer; datarel relative to `data`. */
static uintptr_t enc_ptr(struct rd *r, uint8_t enc, uintptr_t data)
{
    if (enc == 0xff)
        return 0;
    uintptr_t at = (uintptr_t)r->p, v;
    switch (enc & 0x0f) {
    case 0x00: v = RD(uint64_t, r); break;
    case 0x01: v = uleb(r); break;
    case 0x02: v = RD(uint16_t, r); break;
    case 0x03: v = RD(uint32_t, r); break;
    case 0x04: v = RD(uint64_t, r); break;
    case 0x09: v = (uintptr_t)sleb(r); break;
    case 0x0a: v = (uintptr_t)(intptr_t)RD(int16_t, r); break;
    case 0x0b: v = (uintptr_t)(intptr_t)RD(int32_t, r); break;
    case 0x0c: v = RD(uint64_t, r); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += at; break;
    case 0x30: v += data; break;
    default: r->bad = 1; return 0; /* textrel/funcrel/aligned: unused on x86-64 */
    }
    if (enc & 0x80) /* indirect: only personality pointers, which we skip */
        v = 0;
    return v;
}

/* .eh_frame_hdr: the FDE whose initial location is the greatest <= pc. */
static const uint8_t *fde_lookup(const uint8_t *hdr, uintptr_t pc)
{
    struct rd r = { hdr, hdr + 4 + 16, 0 };
    uint8_t ver = RD(uint8_t, &r), ptr_enc = RD(uint8_t, &r),
            cnt_enc = RD(uint8_t, &r), tab_enc = RD(uint8_t, &r);
    if (ver != 1 || tab_enc != 0x3b) /* datarel|sdata4: what ld and lld write */
        return NULL;
    r.end = hdr + 64;
    enc_ptr(&r, ptr_enc, (uintptr_t)hdr);
    uintptr_t n = enc_ptr(&r, cnt_enc, (uintptr_t)hdr);
    if (r.bad || n == 0)
        return NULL;
    const int32_t *t = (const int32_t *)r.p; /* pairs {initial loc, fde} */
    intptr_t rel = (intptr_t)(pc - (uintptr_t)hdr);
    size_t lo = 0, hi = n;
    if (rel < t[0])
        return NULL;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[2 * mid] <= rel)
            lo = mid;
        else
            hi = mid;
    }
    return hdr + t[2 * lo + 1];
}

/* ------------------------------------------------------ CFA interpreter */
struct rules {
    uint8_t cfa_reg;   /* R_RSP or R_RBP; anything else: unsupported */
    int64_t cfa_off;
    int64_t rbp_off;   /* 0: rbp not saved (same value) */
    int64_t ra_off;    /* return address at CFA + ra_off */
    uint8_t ra_undef;  /* end of stack */
};

#define STATE_STACK 8
struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc, has_z, signal;
    struct rd ins;
};

static int parse_cie(const uint8_t *c, struct cie *out)
{
    struct rd r = { c, c + 4, 0 };
    uint64_t len = RD(uint32_t, &r);
    if (len == 0xffffffffu) {
        r.end = c + 12;
        len = RD(uint64_t, &r);
    }
    if (len == 0)
        return 0;
    r.end = r.p + len;
    uint64_t id = (c[0] == 0xff && c[1] == 0xff && c[2] == 0xff && c[3] == 0xff)
                      ? RD(uint64_t, &r) : RD(uint32_t, &r);
    if (id != 0)
        return 0;
    uint8_t ver = RD(uint8_t, &r);
    const char *aug = (const char *)r.p;
    while (r.p < r.end && *r.p)
        r.p++;
    r.p++;
    out->code_align = uleb(&r);
    out->data_align = sleb(&r);
    out->ra_reg = ver == 1 ? RD(uint8_t, &r) : uleb(&r);
    out->fde_enc = 0;
    out->has_z = 0;
    out->signal = 0;
    const uint8_t *aug_end = NULL;
    for (const char *a = aug; *a && !r.bad; a++) {
        switch (*a) {
        case 'z': {
            out->has_z = 1;
            uint64_t al = uleb(&r);
            aug_end = r.p + al;
            break;
        }
        case 'R': out->fde_enc = RD(uint8_t, &r); break;
        case 'L': (void)RD(uint8_t, &r); break;
        case 'P': { uint8_t e = RD(uint8_t, &r); enc_ptr(&r, e & 0x7f, 0); break; }
        case 'S': out->signal = 1; break;
        case 'B': break; /* aarch64 only */
        default:
            if (!aug_end)
                return 0;
            goto done; /* unknown: 'z' lets us skip the rest */
        }
    }
done:
    if (aug_end)
        r.p = aug_end;
    out->ins = r;
    return !r.bad && out->ra_reg == R_RA;
}

/* Run the instructions until the location passes `pc`.  `init` is the rule
 * set after the CIE's initial instructions (for DW_CFA_restore). */
static int run_cfa(struct rd r, const struct cie *cie, uintptr_t loc, uintptr_t pc,
                   struct rules *rs, const struct rules *init)
{
    struct rules stack[STATE_STACK];
    int sp = 0;
    while (r.p < r.end && !r.bad) {
        uint8_t op = *r.p++;
        uint8_t hi = op & 0xc0, lo = op & 0x3f;
        uint64_t reg;
        int64_t off;
        if (hi == 0x40) {
            loc += lo * cie->code_align;
            if (loc > pc)
                return 1;
            continue;
        }
        if (hi == 0x80) {
            off = (int64_t)uleb(&r) * cie->data_align;
            if (lo == R_RBP) rs->rbp_off = off;
            else if (lo == R_RA) rs->ra_off = off;
            continue;
        }
        if (hi == 0xc0) {
            if (!init) return 0;
            if (lo == R_RBP) rs->rbp_off = init->rbp_off;
            else if (lo == R_RA) rs->ra_off = init->ra_off;
            continue;
        }
        switch (op) {
        case 0x00: break; /* nop */
        case 0x02: loc += RD(uint8_t, &r) * cie->code_align; if (loc > pc) return 1; break;
        case 0x03: loc += RD(uint16_t, &r) * cie->code_align; if (loc > pc) return 1; break;
        case 0x04: loc += RD(uint32_t, &r) * cie->code_align; if (loc > pc) return 1; break;
        case 0x05: /* offset_extended */
        case 0x11: /* offset_extended_sf */
            reg = uleb(&r);
            off = op == 0x05 ? (int64_t)uleb(&r) * cie->data_align : sleb(&r) * cie->data_align;
            if (reg == R_RBP) rs->rbp_off = off;
            else if (reg == R_RA) rs->ra_off = off;
            break;
        case 0x06: /* restore_extended */
            reg = uleb(&r);
            if (!init) return 0;
            if (reg == R_RBP) rs->rbp_off = init->rbp_off;
            else if (reg == R_RA) rs->ra_off = init->ra_off;
            break;
        case 0x07: /* undefined */
            reg = uleb(&r);
            if (reg == R_RA) rs->ra_undef = 1;
            else if (reg == R_RBP) rs->rbp_off = 0; /* unrecoverable: treat as kept */
            break;
        case 0x08: /* same_value */
            reg = uleb(&r);
            if (reg == R_RBP) rs->rbp_off = 0;
            else if (reg == R_RA) return 0;
            break;
        case 0x09: /* register reg1 in reg2 */
            reg = uleb(&r);
            (void)uleb(&r);
            if (reg == R_RBP || reg == R_RA) return 0;
            break;
        case 0x0a: /* remember_state */
            if (sp == STATE_STACK) return 0;
            stack[sp++] = *rs;
            break;
        case 0x0b: { /* restore_state: the CFA rule is part of the state */
            if (sp == 0) return 0;
            *rs = stack[--sp];
            break;
        }
        case 0x0c: rs->cfa_reg = (uint8_t)uleb(&r); rs->cfa_off = (int64_t)uleb(&r); break;
        case 0x12: rs->cfa_reg = (uint8_t)uleb(&r); rs->cfa_off = sleb(&r) * cie->data_align; break;
        case 0x0d: rs->cfa_reg = (uint8_t)uleb(&r); break;
        case 0x0e: rs->cfa_off = (int64_t)uleb(&r); break;
        case 0x13: rs->cfa_off = sleb(&r) * cie->data_align; break;
        case 0x0f: return 0; /* def_cfa_expression (PLT entries, signal frames) */
        case 0x10: case 0x16: { /* expression / val_expression */
            reg = uleb(&r);
            uint64_t n = uleb(&r);
            if (reg == R_RBP || reg == R_RA || reg == R_RSP) return 0;
            r.p += n;
            break;
        }
        case 0x14: case 0x15: /* val_offset(_sf) */
            reg = uleb(&r);
            if (op == 0x14) (void)uleb(&r); else (void)sleb(&r);
            if (reg == R_RBP || reg == R_RA) return 0;
            break;
        case 0x2e: (void)uleb(&r); break; /* GNU_args_size */
        case 0x2f: /* GNU_negative_offset_extended */
            reg = uleb(&r);
            off = -(int64_t)uleb(&r) * cie->data_align;
            if (reg == R_RBP) rs->rbp_off = off;
            else if (reg == R_RA) rs->ra_off = off;
            break;
        default: return 0; /* set_loc, vendor ops: stop */
        }
    }
    return !r.bad;
}

/* The rules at `pc` (a call site: return address - 1, or the first PC). */
static int rules_for(uintptr_t pc, struct rules *rs)
{
    const struct mod *m = mod_find(pc);
    if (!m)
        return stop("pc in no module with .eh_frame_hdr");
    const uint8_t *f = fde_lookup(m->hdr, pc);
    if (!f)
        return stop("no FDE");
    struct rd r = { f, f + 4, 0 };
    uint64_t len = RD(uint32_t, &r);
    int is64 = 0;
    if (len == 0xffffffffu) {
        r.end = f + 12;
        len = RD(uint64_t, &r);
        is64 = 1;
    }
    if (len == 0)
        return stop("empty FDE");
    r.end = r.p + len;
    const uint8_t *idp = r.p;
    uint64_t cie_off = is64 ? RD(uint64_t, &r) : RD(uint32_t, &r);
    if (cie_off == 0)
        return stop("FDE is a CIE");
    struct cie cie;
    if (!parse_cie(idp - cie_off, &cie))
        return stop("CIE unsupported");
    if (cie.signal)
        return stop("signal frame");
    uintptr_t start = enc_ptr(&r, cie.fde_enc, 0);
    uintptr_t range = enc_ptr(&r, cie.fde_enc & 0x0f, 0);
    if (r.bad || pc < start || pc >= start + range)
        return stop("pc outside FDE");
    if (cie.has_z) {
        uint64_t al = uleb(&r);
        r.p += al;
    }
    struct rules init = { 0xff, 0, 0, 0, 0 };
    if (!run_cfa(cie.ins, &cie, start, ~(uintptr_t)0, &init, NULL))
        return stop("CIE program unsupported");
    *rs = init;
    if (!run_cfa(r, &cie, start, pc, rs, &init))
        return stop("FDE program unsupported");
    if (rs->cfa_reg != R_RSP && rs->cfa_reg != R_RBP)
        return stop("CFA register not rsp/rbp");
    return 1;
}

/* ----------------------------------------------------------- rule cache
 * One u64 per slot.  Slot index i = (pc ^ pc >> 12) & MASK, so pc's low 12
 * bits are i ^ ((pc >> 12) & MASK) and need not be stored; the word holds
 * pc >> 12 (35 bits, user space < 2^47) and the rule (29 bits):
 *   bit 0 valid, bit 1 cfa reg (0 rsp, 1 rbp), bit 2 ra undefined,
 *   bits 3..18 cfa offset (0..65535), bits 19..26 rbp saved at CFA-8k (k,
 *   0 = not saved).  Return address at CFA-8 (other rules: not cached). */
#define CACHE_BITS 12
#define CACHE_N (1u << CACHE_BITS)
#define CACHE_MASK (CACHE_N - 1)
static uint64_t cache[CACHE_N];

static inline uint32_t slot_of(uintptr_t pc) { return (uint32_t)((pc ^ (pc >> 12)) & CACHE_MASK); }

/* The packed word of a rule set (pc bits included), 0 if it does not fit. */
static uint64_t pack(uintptr_t pc, const struct rules *rs)
{
    if (pc >> 47 || rs->ra_off != -8 || rs->cfa_off < 0 || rs->cfa_off > 0xffff
        || rs->rbp_off > 0 || (rs->rbp_off & 7) || -rs->rbp_off / 8 > 0xff)
        return 0;
    return 1 | (rs->cfa_reg == R_RBP ? 2 : 0) | (rs->ra_undef ? 4 : 0)
           | ((uint64_t)rs->cfa_off << 3) | ((uint64_t)(-rs->rbp_off / 8) << 19)
           | ((uint64_t)(pc >> 12) << 29);
}

/* Cache miss: interpret the CFI and fill the slot.  Returns the packed
 * word, 0 to stop (no rule, or a rule the word cannot hold: CFA offset
 * > 64 KiB, return address not at CFA-8 — counted as uncacheable). */
__attribute__((noinline)) static uint64_t rule_miss(uintptr_t pc)
{
    BUMP(rule_misses);
    struct rules rs;
    if (!rules_for(pc, &rs))
        return 0;
    uint64_t w = pack(pc, &rs);
    if (!w) {
        BUMP(rule_uncacheable);
        stop("rule does not fit the cache word");
        return 0;
    }
    __atomic_store_n(&cache[slot_of(pc)], w, __ATOMIC_RELAXED);
    return w;
}

/* ---------------------------------------------------------------- walk */
#define MAX_FRAME (16u << 20) /* plausibility: no frame above 16 MiB */

__attribute__((noinline)) int pt_cfi_backtrace(void **frames, int max)
{
    uintptr_t pc, rsp, rbp;
    /* pc and rsp of the same instruction: pc - 1 lies inside the lea, whose
     * CFI row describes the rsp read right after it (lea changes no rsp). */
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=&r"(pc), "=&r"(rsp), "=&r"(rbp));
    int n = 0;
    while (n < max) {
        /* A return address is the instruction after the call: look up the
         * call itself (pc - 1). */
        uintptr_t at = pc - 1;
        uint64_t w = __atomic_load_n(&cache[slot_of(at)], __ATOMIC_RELAXED);
        if (__builtin_expect(!(w & 1) || (w >> 29) != (at >> 12), 0)) {
            w = rule_miss(at);
            if (!w)
                break;
        }
#ifdef PT_CFI_COUNT_HITS
        else
            BUMP(rule_hits);
#endif
        if (w & 4) {
            last_stop = "end of stack";
            break;
        }
        uintptr_t cfa = ((w & 2) ? rbp : rsp) + ((w >> 3) & 0xffff);
        if (__builtin_expect(cfa <= rsp || cfa - rsp > MAX_FRAME || (cfa & 7), 0)) {
            stop("implausible CFA");
            break;
        }
        uintptr_t ra = ((const uintptr_t *)cfa)[-1];
        uintptr_t k = (w >> 19) & 0xff;
        if (k)
            rbp = ((const uintptr_t *)cfa)[-(intptr_t)k];
        rsp = cfa;
        if (ra == 0) {
            last_stop = "return address 0";
            break;
        }
        frames[n++] = (void *)ra;
        pc = ra;
    }
    return n;
}
