#ifndef AGENTHUB_CLIBGIT2_SHIM_H
#define AGENTHUB_CLIBGIT2_SHIM_H
#include <git2.h>

/// git_libgit2_opts is variadic, so Swift cannot call it; these wrap the options GitSync sets.

/// Trust the certificates in `file` (PEM) for HTTPS, instead of the system store.
static inline int agenthub_git_set_ca_file(const char *file) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, (const char *)0);
}

#endif
