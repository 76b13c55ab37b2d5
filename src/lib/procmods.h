/*
 * procmods.h — the ELF modules of a live process, for `pooltag lm`, `ln`
 * and `imports`: its /proc/PID/maps read into a symbolizer context
 * (symbolize.h), each module checked for the ELF magic at its load
 * address, and its memory readable through /proc/PID/mem.
 *
 * Any process this user may trace can be read (the ptrace rule, as for
 * every live source): it need not be tagged.
 */
#ifndef PT_CLI_PROCMODS_H
#define PT_CLI_PROCMODS_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

typedef struct pm_proc {
    uint32_t pid;
    char comm[17];
    char exe[4096];       /* /proc/PID/exe, "" when it cannot be read      */
    int memfd;            /* /proc/PID/mem, -1 when it cannot be opened    */
    int exited;           /* the process was seen gone after pm_open       */
    unsigned long long start; /* its start time (/proc/PID/stat field 22) */
    sym_ctx *sc;          /* every file mapped at offset 0 (maps order)    */
    unsigned char *elf;   /* per module of sc: 1 ELF, 0 not ELF, 2 unknown */
    struct pim *core;     /* pm_open_pim: the core read (owned), else NULL */
} pm_proc;

/* A command-line word that is all digits: 1 and *pid (0 for a value too
 * large to be a PID), else 0. */
int pm_is_pid(const char *word, uint32_t *pid);

/* Read process `pid`'s modules.  network as for sym_new.  Errors: no such
 * process, permission (the ptrace rule), out of memory; one line in err. */
int pm_open(pm_proc *p, uint32_t pid, int network, char *err, size_t errlen);

/* The modules of a core file opened as a pim (pimg.h; pm_close closes
 * it): the pim's modules with the build-ids read from the core, so that
 * a file changed since is not used (pim_symbols); pid, comm and exe from
 * the core.  memfd is -1; pm_read reads the core; pm_alive is 1.  Errors:
 * out of memory. */
int pm_open_pim(pm_proc *p, struct pim *core, int network, char *err, size_t errlen);

/* Read n bytes at addr of the process: 0, or -1 (p->exited is set when
 * the process is gone). */
int pm_read(pm_proc *p, uint64_t addr, void *buf, size_t n);

/* Is the process still there (and the same one)? */
int pm_alive(pm_proc *p);

/* Add the kernel's vDSO ([vdso] in /proc/PID/maps, no file) to p->sc as
 * the module the dynamic linker and the runtime's module table name it,
 * "linux-vdso.so.1" (for lm and ln; imports and find read files).
 * Returns 1 added, 0 none mapped, -1 out of memory. */
int pm_add_vdso(pm_proc *p);

void pm_close(pm_proc *p);

#endif
