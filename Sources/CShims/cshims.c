#define _GNU_SOURCE
#include "cshims.h"
#include <errno.h>
#include <stdlib.h>
#include <malloc.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/openat2.h>
#endif

int agenthub_open_beneath(int dirfd, const char *path, int flags, int mode, int no_symlinks) {
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? (unsigned long long)mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0);
    long fd;
    do { fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how); } while (fd < 0 && errno == EAGAIN);
    return (int)fd;
#else
    (void)dirfd; (void)path; (void)flags; (void)mode; (void)no_symlinks;
    errno = ENOSYS;
    return -1;
#endif
}

#include <sys/prctl.h>
#include <signal.h>

int agenthub_die_with_parent(void) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    if (getppid() != parent) { errno = ESRCH; return -1; }
    return 0;
}

int agenthub_die_with(int parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    if (getppid() != (pid_t)parent) { errno = ESRCH; return -1; }
    return 0;
}

#include <pthread.h>
#include <poll.h>

static void *agenthub_parent_watch(void *arg) {
    int fd = (int)(long)arg;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
    kill(getpid(), SIGKILL);
    return NULL;
}

int agenthub_die_with_parent_process(void) {
#if defined(__linux__) && defined(SYS_pidfd_open)
    pid_t parent = getppid();
    int fd = (int)syscall(SYS_pidfd_open, parent, 0);
    if (fd < 0) return -1;
    if (getppid() != parent) { close(fd); errno = ESRCH; return -1; }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t thread;
    int failed = pthread_create(&thread, &attr, agenthub_parent_watch, (void *)(long)fd);
    pthread_attr_destroy(&attr);
    if (failed) { close(fd); errno = failed; return -1; }
    return 0;
#else
    errno = ENOSYS;
    return -1;
#endif
}

int agenthub_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int agenthub_set_undumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int agenthub_reset_signals(void) {
    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int signo = 1; signo < NSIG; signo++) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        (void)sigaction(signo, &action, NULL);  /* some numbers are reserved by the C library: skip them */
    }
    return 0;
}

extern char **environ;

void agenthub_scrub_env(const char *name) {
    size_t length = strlen(name);
    if (length == 0) return;
    for (char **entry = environ; entry && *entry; entry++) {
        if (strncmp(*entry, name, length) == 0 && (*entry)[length] == '=') {
            char *value = *entry + length + 1;
            memset(value, 0, strlen(value));
        }
    }
    unsetenv(name);
}

int agenthub_malloc_trim(void) {
    return malloc_trim(0);
}
