/*
 * pimg.h — a process's address space, live or from a core file (part of
 * ptread): the one source of the dump verbs (`address`, `heap`, `search`,
 * `leaks`) and of the core-file support of every report verb.
 *
 * Data model
 * ----------
 * A pim is what a debugger sees of one process:
 *   - regions: its mappings, sorted by address, never overlapping, each
 *     with its protection, its file (when known) and how many of its bytes
 *     can be read (a core holds only what the kernel or gcore dumped:
 *     `avail` < end - start for a region whose pages were left out);
 *   - threads: each with its registers (a core's NT_PRSTATUS notes; a live
 *     process's through ptrace, only when opened with PIM_STOP);
 *   - modules: the ELF files mapped, each with its span, the address of its
 *     offset-0 mapping and the GNU build-id read from its ELF headers in the
 *     process's memory (so a file changed on disk since is detected);
 *   - memory: pim_read for small reads, pim_bytes for scanning (a pointer
 *     into the core's mapping, without a copy; a live process is read into
 *     the caller's buffer).
 *
 * Sources
 * -------
 *   PIM_LIVE    a PID (/proc/PID/maps, /proc/PID/mem, /proc/PID/task).  The
 *               ptrace rule applies (same user or root): another user's
 *               process is refused with ptr_perm_message's line.  Without
 *               PIM_STOP the process runs while it is read (racy, as
 *               documented for --no-stop) and no registers are read.  With
 *               PIM_STOP every thread is stopped (PTRACE_SEIZE and
 *               PTRACE_INTERRUPT), its registers read, and all are resumed
 *               by pim_resume or pim_close; the time they were stopped is
 *               reported (stopped_ns).
 *   PIM_CORE    an ELF core file (gcore, the kernel, systemd-coredump's
 *               `coredumpctl dump -o FILE`), mapped read-only.  Untrusted:
 *               every offset, size and count is checked; a truncated core,
 *               another architecture's core or an ELF file that is not a
 *               core is refused with one line (fuzz/fuzz_core.c).
 *   PIM_MEMORY  built from regions and bytes held in memory
 *               (pim_open_memory): the fuzz targets and unit tests of the
 *               heap walker and the scanners.
 *
 * Conventions: functions that can fail return 0 or -1 with a one-line
 * message (no trailing newline) in err[0..errlen).  Strings in a pim stay
 * valid until pim_close.
 */
#ifndef PT_PIMG_H
#define PT_PIMG_H

#include <stddef.h>
#include <stdint.h>

enum pim_kind { PIM_LIVE = 1, PIM_CORE = 2, PIM_MEMORY = 3 };

/* pim_region.prot */
#define PIM_R 0x1u
#define PIM_W 0x2u
#define PIM_X 0x4u
/* pim_region.flags */
#define PIM_RF_SHARED 0x1u   /* a shared mapping (maps "s"; core: unknown) */
#define PIM_RF_FILE 0x2u     /* a mapping of a file: path names it        */
#define PIM_RF_DELETED 0x4u  /* the file was deleted (" (deleted)")      */
#define PIM_RF_SEGMENT 0x8u  /* the pooltag segment (its memfd)           */
#define PIM_RF_NOPHDR 0x10u  /* core: a file mapping that NT_FILE names but
                                the dumper wrote no program header for
                                (gcore leaves out read-only file mappings):
                                prot unknown (0), no bytes               */

typedef struct pim_region {
    uint64_t start, end;   /* [start, end), page aligned                 */
    uint64_t offset;       /* file offset of start (PIM_RF_FILE)          */
    unsigned prot;         /* PIM_R | PIM_W | PIM_X                       */
    unsigned flags;        /* PIM_RF_*                                    */
    const char *path;      /* live: the maps path field without
                              " (deleted)" ("[heap]", "[stack]", "[vdso]",
                              "/usr/lib/x86_64-linux-gnu/libc.so.6",
                              "/memfd:pooltag", "" anonymous); core: the
                              NT_FILE name, else "" (a core does not name
                              [heap] or [stack])                           */
    uint64_t avail;        /* bytes readable from start: end - start
                              (live), what the core holds (0 when the
                              region's pages were not dumped)             */
    uint64_t core_off;     /* core: file offset of the region's bytes     */
} pim_region;

/* x86-64: the general registers in the order of struct user_regs_struct
 * (<sys/user.h>): r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
 * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs. */
#define PIM_NGREGS 27
typedef struct pim_thread {
    uint32_t tid;
    char name[16];         /* live: /proc/PID/task/TID/comm; core: the
                              process name for the first thread, else ""  */
    int have_regs;         /* gregs, sp, pc, fs_base are valid            */
    uint64_t gregs[PIM_NGREGS];
    uint64_t sp, pc;       /* rsp, rip                                    */
    uint64_t fs_base;      /* the thread pointer: its TLS block ends here  */
    int pending_sig;       /* live: a signal that stopped it while seized,
                              delivered again when it is resumed          */
} pim_thread;

typedef struct pim_module {
    const char *path;      /* as the process knew it                      */
    const char *name;      /* its last component                          */
    uint64_t start, end;   /* the span of its mappings                    */
    uint64_t base;         /* address of its offset-0 mapping (0: none
                              seen: a core without it, or not an ELF)      */
    uint8_t build_id[64];  /* from the ELF headers in the process's memory */
    size_t build_id_len;   /* 0: unknown (headers not dumped, no note)    */
} pim_module;

typedef struct pim {
    int kind;              /* enum pim_kind                               */
    uint32_t pid;          /* 0 when a core does not say                  */
    char comm[17];         /* process name ("" unknown)                   */
    char exe[4096];        /* executable path ("" unknown)                */
    const char *source;    /* what was opened: "process 1234", the path  */
    size_t nregions;
    pim_region *regions;   /* sorted by start, not overlapping            */
    size_t nthreads;
    pim_thread *threads;   /* the main thread (tid == pid) first          */
    size_t nmodules;
    pim_module *modules;   /* in address order of their first mapping     */
    int stopped;           /* live: every thread is stopped now           */
    uint64_t stopped_ns;   /* live: how long they were (or have been) stopped */
    void *priv;            /* the backend's                               */
    char args[81];         /* core: the command line as NT_PRPSINFO holds
                              it (pr_psargs, cut at 80 bytes); live: ""  */
    uint64_t vdso;         /* core: the vDSO's address (AT_SYSINFO_EHDR),
                              0 unknown; live: 0 (its region is "[vdso]") */
} pim;

/* pim_open flags */
#define PIM_STOP 0x1u      /* live: stop every thread for a consistent read
                              and read its registers (resumed by pim_resume
                              or pim_close)                               */

/* Open a command-line word: all digits = a live PID, anything else = a
 * core file.  A file that is not an ELF core says so ("PATH: not a core
 * file (an ELF shared object)"; a pooltag snapshot: "PATH: a pooltag
 * snapshot, not a core file: it holds no process memory"). */
int pim_open(const char *spec, unsigned flags, pim **out, char *err,
             size_t errlen);
int pim_open_pid(uint32_t pid, unsigned flags, pim **out, char *err,
                 size_t errlen);
int pim_open_core(const char *path, unsigned flags, pim **out, char *err,
                  size_t errlen);
/* 1 when path is a regular file that starts with the ELF magic: what a
 * verb taking "a PID, a snapshot or a core" hands to pim_open_core (which
 * then says what an ELF file that is not a core is); 0 otherwise. */
int pim_file_is_elf(const char *path);
/* 1 when it is an ELF core file (e_type ET_CORE, of any architecture):
 * `pooltag find TAG CORE` reads it as a process, not as an ELF file. */
int pim_file_is_core(const char *path);
/* A core file's bytes held by the caller (the fuzz target): buf must
 * outlive the pim; name is its source ("core image" when NULL).  Errors
 * as pim_open_core's, without the path prefix. */
int pim_open_core_image(const void *buf, size_t len, const char *name,
                        pim **out, char *err, size_t errlen);
/* Regions and their bytes held by the caller (bytes[i] has regions[i].avail
 * bytes and must outlive the pim); the regions are copied and sorted.  No
 * threads or modules (pim_add_thread adds threads). */
int pim_open_memory(const pim_region *regions, const void *const *bytes,
                    size_t n, pim **out, char *err, size_t errlen);
int pim_add_thread(pim *p, const pim_thread *t);

/* Read n bytes at addr: the count read, stopping at the first byte that
 * cannot be read (not mapped, not dumped, the process gone).  0 when none
 * can. */
size_t pim_read(pim *p, uint64_t addr, void *buf, size_t n);
/* 0 when all n bytes were read, else -1. */
int pim_read_all(pim *p, uint64_t addr, void *buf, size_t n);
/* The 8-byte word at addr (little-endian): 0 or -1. */
int pim_word(pim *p, uint64_t addr, uint64_t *out);

/* The region containing addr, or NULL. */
const pim_region *pim_region_at(const pim *p, uint64_t addr);
/* The module whose span contains addr, or NULL. */
const pim_module *pim_module_at(const pim *p, uint64_t addr);

/*
 * Bulk access for scanners: up to n bytes of region r from offset off
 * (relative to r->start; at most r->avail - off).  Returns a pointer to
 * them and the count in *got: into the core's mapping (no copy) or into
 * buf, which must hold n bytes (a live process is read into it).  NULL
 * with *got 0 when nothing can be read there (the process gone: see
 * pim_gone).
 */
const uint8_t *pim_bytes(pim *p, const pim_region *r, uint64_t off, size_t n,
                         void *buf, size_t *got);

/* Live: 1 when the process has been seen to exit (a read failed and
 * /proc/PID is gone); the verbs then fail with "process N exited during
 * the scan".  Always 0 for a core. */
int pim_gone(pim *p);

/* Live and stopped: resume every thread now (idempotent); stopped_ns stays
 * what it was.  Nothing for other kinds. */
void pim_resume(pim *p);
void pim_close(pim *p);

/* The pooltag segment in this process's memory: the region flagged
 * PIM_RF_SEGMENT (live: the memfd's mapping; core: the mapping whose first
 * bytes are the segment magic, found by its magic as the NT_FILE name may
 * be absent).  0 with *r, or -1 when the process is not tagged. */
int pim_segment(const pim *p, const pim_region **r);

#endif /* PT_PIMG_H */
