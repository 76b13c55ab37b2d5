// unwind_cxx_lib — a C++ library loaded by a C program (unwind_host):
// destructors on the stack of a cancelled thread, and an exception thrown
// and caught across frames.  Both go through the C++ personality routine
// and libgcc_s's unwinder; with another unwinder's _Unwind_* functions in
// their place the destructors are skipped.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

static std::atomic<int> dtors{0};

namespace {
struct Counted {
    std::string s;
    explicit Counted(const char *v) : s(v) {}
    ~Counted() { dtors.fetch_add(1); }
};

int ready_pipe[2], block_pipe[2];

__attribute__((noinline)) void block_here(int depth)
{
    Counted c("frame");
    std::vector<int> v(100, depth);
    if (depth > 0) {
        block_here(depth - 1);
        return;
    }
    char b = 1;
    if (write(ready_pipe[1], &b, 1) != 1)
        return;
    char r;
    while (read(block_pipe[0], &r, 1) != 0) // a cancellation point
        ;
}

void *thread_main(void *)
{
    Counted outer("outer");
    block_here(4);
    return nullptr;
}

__attribute__((noinline)) int thrower(int depth)
{
    Counted c("t");
    if (depth == 0)
        throw std::runtime_error("deep " + std::to_string(c.s.size()));
    return thrower(depth - 1) + 1;
}
} // namespace

// Cancels a thread blocked five frames deep: returns how many of its six
// objects were destroyed (6 when the unwinder runs the cleanups).
extern "C" int cxx_cancel_dtors(void)
{
    dtors = 0;
    if (pipe(ready_pipe) != 0 || pipe(block_pipe) != 0)
        return -1;
    pthread_t t;
    if (pthread_create(&t, nullptr, thread_main, nullptr) != 0)
        return -1;
    char b;
    if (read(ready_pipe[0], &b, 1) != 1) // the thread is about to block
        return -1;
    pthread_cancel(t);
    void *res = nullptr;
    pthread_join(t, &res);
    for (int fd : {ready_pipe[0], ready_pipe[1], block_pipe[0], block_pipe[1]})
        close(fd);
    if (res != PTHREAD_CANCELED)
        return -2;
    return dtors.load();
}

// Throws through eight frames and catches: prints what was caught and how
// many objects were destroyed.
extern "C" void cxx_throw_catch(void)
{
    dtors = 0;
    try {
        thrower(7);
        std::puts("not thrown");
    } catch (const std::exception &e) {
        std::printf("caught '%s' after %d destructors\n", e.what(), dtors.load());
    }
}
