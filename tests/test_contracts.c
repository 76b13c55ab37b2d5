/*
 * test_contracts.c — the runtime's contracts (src/common/ptassert.h) are
 * compiled in when PT_CONTRACTS is on, and out when it is off.
 *
 * A child process breaks an invariant that alloc.c states and checks
 * (invariant 3: a private shard is written only by the thread that claimed
 * it): it allocates once, so that its thread owns a shard, then writes
 * another thread id into that shard's header in the segment, as a second
 * owner would, and allocates again.  With contracts the runtime must abort
 * at the check with one line "pooltag: contract failed: FILE:LINE: COND";
 * without them (a release build) the allocation goes on unchecked and the
 * child exits 0.  The parent checks whichever this build promises.
 *
 * Linked with the static library: pt__seg is internal to the runtime.
 */
#define _GNU_SOURCE
#include <pooltag.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "segment.h"

extern pt_seg_header *pt__seg;

static int child(void)
{
    void *p = pt_alloc(PT_PAGED, 32, PT_TAG("Ctrt"));
    if (!p || !pt__seg)
        return 3;
    uint32_t me = (uint32_t)syscall(SYS_gettid);
    char *seg = (char *)pt__seg;
    pt_seg_shard_hdr *mine = NULL;
    for (uint32_t s = 1; s < pt__seg->shard_hw; s++) {
        pt_seg_shard_hdr *sh =
            (pt_seg_shard_hdr *)(seg + pt__seg->shards_off + (uint64_t)s * pt__seg->shard_stride);
        if (sh->state == PT_SHARD_LIVE && sh->tid == me)
            mine = sh;
    }
    if (!mine)
        return 4; /* no private shard: nothing to test */
    mine->tid = me + 1; /* another owner */
    void *q = pt_alloc(PT_PAGED, 32, PT_TAG("Ctrt"));
    printf("survived\n");
    fflush(stdout);
    pt_free(q);
    pt_free(p);
    return 0;
}

int main(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 2;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        dup2(fds[1], 1);
        close(fds[0]);
        _exit(child());
    }
    close(fds[1]);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = 0;
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return 2;
#ifdef PT_CONTRACTS
    const char *want = "pooltag: contract failed: ";
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT) {
        fprintf(stderr, "FAIL: contracts on, but the child was not aborted (status %d):\n%s",
                st, out);
        return 1;
    }
    const char *line = strstr(out, want);
    if (!line || !strstr(line, "alloc.c:") || !strstr(line, "tid == tls.tid") ||
        strchr(line, '\n') == NULL || strstr(strchr(line, '\n') + 1, want)) {
        fprintf(stderr, "FAIL: want one line '%sFILE:LINE: COND' naming the shard "
                        "owner check, got:\n%s", want, out);
        return 1;
    }
    printf("ok: contract caught the second owner: %s", line);
#else
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !strstr(out, "survived")) {
        fprintf(stderr, "FAIL: contracts off, but the child did not run through "
                        "(status %d):\n%s", st, out);
        return 1;
    }
    printf("ok: contracts are compiled out of this build\n");
#endif
    return 0;
}
