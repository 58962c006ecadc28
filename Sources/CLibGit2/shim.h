#ifndef GIT_MTIME_CLIBGIT2_SHIM_H
#define GIT_MTIME_CLIBGIT2_SHIM_H
#include <git2.h>
#include <git2/sys/repository.h>
#include <zlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* git_libgit2_opts is variadic, which Swift cannot call: one typed wrapper per option we set. */
static inline int gitmtime_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

static inline int gitmtime_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

static inline int gitmtime_set_caching(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_CACHING, enabled);
}

/* inflateInit is a macro (it passes the header's version and struct size), which Swift cannot call. */
static inline int gitmtime_inflate_init(z_stream *stream) {
    return inflateInit(stream);
}

/* memfd_create is declared only under _GNU_SOURCE, and syscall is variadic: a typed wrapper (close on exec). */
static inline int gitmtime_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, 1U /* MFD_CLOEXEC */);
}
#endif
