/*
 * cli_unpublished — a process whose pooltag segment is mapped but never
 * published: the memfd "pooltag" holds the magic and version 0, as the
 * runtime's segment does between its mmap and the release store of the
 * version.  Prints "ready" once mapped, then sleeps until killed (at most
 * 60 s).  Used by cli_unpublished.sh.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    const size_t len = 1 << 16;
    int fd = (int)syscall(SYS_memfd_create, "pooltag", 1u /* MFD_CLOEXEC */);
    if (fd < 0 || ftruncate(fd, (off_t)len) != 0)
        return 1;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return 1;
    memcpy(p, "POOLTAG", 8);     /* magic (NUL included); version stays 0 */
    printf("ready\n");
    fflush(stdout);
    sleep(60);
    return 0;
}
