#ifndef GITMTIME_SHA1_H
#define GITMTIME_SHA1_H
// SHA-1 for git object ids and our files' trailers: the x86-64 SHA extensions where the CPU has them,
// portable C elsewhere. Our own, so the executables need neither a crypto library nor Foundation.
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t state[5];
    uint64_t length;      // bytes hashed so far
    uint8_t pending[64];  // a partial block
} gitmtime_sha1;

void gitmtime_sha1_init(gitmtime_sha1 *context);
void gitmtime_sha1_update(gitmtime_sha1 *context, const void *bytes, size_t count);
void gitmtime_sha1_final(gitmtime_sha1 *context, uint8_t digest[20]);

/// Which block function runs: 1 the CPU's SHA instructions, 0 portable C. `gitmtime_sha1_select(0)`
/// forces the portable one (the tests compare both); it returns the one now in use.
int gitmtime_sha1_select(int allowHardware);

#endif
