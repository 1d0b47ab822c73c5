#ifndef AGENTHUB_CLIBGIT2_SHIM_H
#define AGENTHUB_CLIBGIT2_SHIM_H
#include <git2.h>
#endif
