#ifndef AGENTHUB_CSHIMS_H
#define AGENTHUB_CSHIMS_H

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (plus RESOLVE_NO_SYMLINKS when
/// `no_symlinks` is set): the kernel refuses any path, `..` or symlink that would leave `dirfd`.
/// Returns the new descriptor, or -1 with errno set (ENOSYS when the kernel lacks openat2).
int agenthub_open_beneath(int dirfd, const char *path, int flags, int mode, int no_symlinks);

/// prctl(PR_SET_PDEATHSIG, SIGKILL): the kernel kills this process when its parent dies, so a
/// worker never outlives the host. Returns 0, or -1 with errno set. Also returns -1 (errno ESRCH)
/// when the parent is already gone.
int agenthub_die_with_parent(void);

/// prctl(PR_SET_PDEATHSIG, SIGKILL), then checks that `parent` is still this process's parent (it
/// may have died before the call). Returns 0, or -1 with errno set (ESRCH when the parent is gone).
int agenthub_die_with(int parent);

/// Kills this process (SIGKILL) when its parent *process* ends, however it ends: a thread waits on
/// a pidfd of the parent (PR_SET_PDEATHSIG follows the parent's thread, which may end first).
/// Returns 0, or -1 with errno set (ESRCH when the parent is already gone).
int agenthub_die_with_parent_process(void);

/// pipe2(2) with O_CLOEXEC on both ends. Returns 0, or -1 with errno set.
int agenthub_pipe_cloexec(int fds[2]);

/// prctl(PR_SET_DUMPABLE, 0): other processes of the same user can no longer read this process's
/// memory, environment (/proc/PID/environ) or attach a debugger. Returns 0, or -1 with errno set.
int agenthub_set_undumpable(void);

/// Empties the signal mask and sets every signal's disposition to its default: what a program
/// about to exec should hand on (the host blocks and ignores signals it handles itself).
/// Returns 0, or -1 with errno set.
int agenthub_reset_signals(void);

/// Overwrites the value of every `name=` entry in `environ` with zero bytes (the kernel's copy in
/// /proc/PID/environ included, where it still points there), then unsetenv(name).
void agenthub_scrub_env(const char *name);

/// malloc_trim(0): gives free heap memory back to the system. Returns 1 when some was released.
int agenthub_malloc_trim(void);

#endif
