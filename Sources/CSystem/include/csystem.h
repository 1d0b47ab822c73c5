#ifndef AGENTHUB_CSYSTEM_H
#define AGENTHUB_CSYSTEM_H

/// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (plus RESOLVE_NO_SYMLINKS when
/// `no_symlinks` is set): the kernel refuses any path, `..` or symlink that would leave `dirfd`.
/// Returns the new descriptor, or -1 with errno set (ENOSYS when the kernel lacks openat2).
int agenthub_open_beneath(int dirfd, const char *path, int flags, int mode, int no_symlinks);

#endif
