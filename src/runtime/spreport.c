/*
 * spreport.c — the special pool's fault handler and reports (issue 12):
 * SIGSEGV/SIGBUS in the special region, checks that failed at free, the
 * report (segment record and stderr), then death by the original signal.
 *
 * (Base of issue 12: not built yet.)
 */
#define _GNU_SOURCE
#include "rtstate.h"

#include <signal.h>
#include <unistd.h>

void pt__sp_handler_install(void)
{
}

void pt__sp_report(unsigned kind, uintptr_t addr, uint32_t blk, int64_t offset,
                   const void *uctx, int signo, unsigned access)
{
    (void)kind, (void)addr, (void)blk, (void)offset, (void)uctx, (void)access;
    static const char msg[] = "pooltag: special pool error\n";
    pt__write_stderr(msg, sizeof msg - 1);
    if (pt__spc && (pt__spc->sp_flags & PT_SPF_RECOVER))
        return;
    signal(signo ? signo : SIGABRT, SIG_DFL);
    raise(signo ? signo : SIGABRT);
}
