#include "sha1.h"
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

typedef void (*block_function)(uint32_t state[5], const uint8_t *data, size_t blocks);

static inline uint32_t rotate_left(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

static inline uint32_t load_big_endian(const uint8_t *bytes) {
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
}

// Fully unrolled, the five working variables renamed instead of moved, the schedule in a rolling
// 16-word window: a plain loop runs at a third of this speed.
#define SHA1_W(i)                                                                                   \
    ((i) < 16 ? w[(i) & 15]                                                                         \
              : (w[(i) & 15] = rotate_left(w[((i) - 3) & 15] ^ w[((i) - 8) & 15] ^                    \
                                           w[((i) - 14) & 15] ^ w[(i) & 15], 1)))
#define SHA1_CHOOSE(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define SHA1_PARITY(b, c, d) ((b) ^ (c) ^ (d))
#define SHA1_MAJORITY(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))
#define SHA1_ROUND(a, b, c, d, e, f, k, i)                                                          \
    do {                                                                                            \
        e += rotate_left(a, 5) + f(b, c, d) + (k) + SHA1_W(i);                                      \
        b = rotate_left(b, 30);                                                                     \
    } while (0)
#define SHA1_FIVE(f, k, i)                                                                          \
    do {                                                                                            \
        SHA1_ROUND(a, b, c, d, e, f, k, (i));                                                       \
        SHA1_ROUND(e, a, b, c, d, f, k, (i) + 1);                                                   \
        SHA1_ROUND(d, e, a, b, c, f, k, (i) + 2);                                                   \
        SHA1_ROUND(c, d, e, a, b, f, k, (i) + 3);                                                   \
        SHA1_ROUND(b, c, d, e, a, f, k, (i) + 4);                                                   \
    } while (0)

static void blocks_portable(uint32_t state[5], const uint8_t *data, size_t blocks) {
    for (; blocks > 0; blocks--, data += 64) {
        uint32_t w[16];
        for (int i = 0; i < 16; i++) w[i] = load_big_endian(data + 4 * i);
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
        SHA1_FIVE(SHA1_CHOOSE, 0x5A827999, 0);
        SHA1_FIVE(SHA1_CHOOSE, 0x5A827999, 5);
        SHA1_FIVE(SHA1_CHOOSE, 0x5A827999, 10);
        SHA1_FIVE(SHA1_CHOOSE, 0x5A827999, 15);
        SHA1_FIVE(SHA1_PARITY, 0x6ED9EBA1, 20);
        SHA1_FIVE(SHA1_PARITY, 0x6ED9EBA1, 25);
        SHA1_FIVE(SHA1_PARITY, 0x6ED9EBA1, 30);
        SHA1_FIVE(SHA1_PARITY, 0x6ED9EBA1, 35);
        SHA1_FIVE(SHA1_MAJORITY, 0x8F1BBCDC, 40);
        SHA1_FIVE(SHA1_MAJORITY, 0x8F1BBCDC, 45);
        SHA1_FIVE(SHA1_MAJORITY, 0x8F1BBCDC, 50);
        SHA1_FIVE(SHA1_MAJORITY, 0x8F1BBCDC, 55);
        SHA1_FIVE(SHA1_PARITY, 0xCA62C1D6, 60);
        SHA1_FIVE(SHA1_PARITY, 0xCA62C1D6, 65);
        SHA1_FIVE(SHA1_PARITY, 0xCA62C1D6, 70);
        SHA1_FIVE(SHA1_PARITY, 0xCA62C1D6, 75);
        state[0] += a; state[1] += b; state[2] += c; state[3] += d; state[4] += e;
    }
}

#if defined(__x86_64__)
// Four rounds (group g of 0...19) with the SHA extensions. m0 holds this group's message words; the
// schedule of later groups is advanced alongside: sha1msg2 finishes group g+1, sha1msg1 starts g+3,
// the xor feeds g+2 (only where those groups exist). `next` receives ABCD before the rounds: it
// becomes the next group's E.
#define SHA1_GROUP(g, e, next, m0, m1, m2, m3)                                   \
    do {                                                                           \
        e = (g) == 0 ? _mm_add_epi32(e, m0) : _mm_sha1nexte_epu32(e, m0);          \
        next = abcd;                                                               \
        if ((g) >= 3 && (g) <= 18) m1 = _mm_sha1msg2_epu32(m1, m0);                \
        abcd = _mm_sha1rnds4_epu32(abcd, e, (g) / 5);                              \
        if ((g) >= 1 && (g) <= 16) m3 = _mm_sha1msg1_epu32(m3, m0);                \
        if ((g) >= 2 && (g) <= 17) m2 = _mm_xor_si128(m2, m0);                     \
    } while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_sha_extensions(uint32_t state[5], const uint8_t *data, size_t blocks) {
    const __m128i byte_swap = _mm_set_epi64x(0x0001020304050607ULL, 0x08090a0b0c0d0e0fULL);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0x1B);
    __m128i e0 = _mm_set_epi32((int)state[4], 0, 0, 0), e1;
    for (; blocks > 0; blocks--, data += 64) {
        const __m128i abcd_saved = abcd, e0_saved = e0;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 0)), byte_swap);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16)), byte_swap);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 32)), byte_swap);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 48)), byte_swap);
        SHA1_GROUP(0, e0, e1, m0, m1, m2, m3);
        SHA1_GROUP(1, e1, e0, m1, m2, m3, m0);
        SHA1_GROUP(2, e0, e1, m2, m3, m0, m1);
        SHA1_GROUP(3, e1, e0, m3, m0, m1, m2);
        SHA1_GROUP(4, e0, e1, m0, m1, m2, m3);
        SHA1_GROUP(5, e1, e0, m1, m2, m3, m0);
        SHA1_GROUP(6, e0, e1, m2, m3, m0, m1);
        SHA1_GROUP(7, e1, e0, m3, m0, m1, m2);
        SHA1_GROUP(8, e0, e1, m0, m1, m2, m3);
        SHA1_GROUP(9, e1, e0, m1, m2, m3, m0);
        SHA1_GROUP(10, e0, e1, m2, m3, m0, m1);
        SHA1_GROUP(11, e1, e0, m3, m0, m1, m2);
        SHA1_GROUP(12, e0, e1, m0, m1, m2, m3);
        SHA1_GROUP(13, e1, e0, m1, m2, m3, m0);
        SHA1_GROUP(14, e0, e1, m2, m3, m0, m1);
        SHA1_GROUP(15, e1, e0, m3, m0, m1, m2);
        SHA1_GROUP(16, e0, e1, m0, m1, m2, m3);
        SHA1_GROUP(17, e1, e0, m1, m2, m3, m0);
        SHA1_GROUP(18, e0, e1, m2, m3, m0, m1);
        SHA1_GROUP(19, e1, e0, m3, m0, m1, m2);
        e0 = _mm_sha1nexte_epu32(e0, e0_saved);
        abcd = _mm_add_epi32(abcd, abcd_saved);
    }
    _mm_storeu_si128((__m128i *)state, _mm_shuffle_epi32(abcd, 0x1B));
    state[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}

static int cpu_has_sha_extensions(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const int ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return ssse3 && sse41 && ((ebx >> 29) & 1);
}
#endif

// Chosen once (cpuid can trap to a hypervisor, so it is not asked per hash). Racing first calls
// store the same pointer.
static block_function selected;

static block_function choose(int allow_hardware) {
#if defined(__x86_64__)
    if (allow_hardware && cpu_has_sha_extensions()) return blocks_sha_extensions;
#else
    (void)allow_hardware;
#endif
    return blocks_portable;
}

static inline block_function blocks_function(void) {
    block_function function = __atomic_load_n(&selected, __ATOMIC_RELAXED);
    if (!function) {
        function = choose(1);
        __atomic_store_n(&selected, function, __ATOMIC_RELAXED);
    }
    return function;
}

int gitmtime_sha1_select(int allow_hardware) {
    block_function function = choose(allow_hardware);
    __atomic_store_n(&selected, function, __ATOMIC_RELAXED);
    return function != blocks_portable;
}

void gitmtime_sha1_init(gitmtime_sha1 *context) {
    context->state[0] = 0x67452301;
    context->state[1] = 0xEFCDAB89;
    context->state[2] = 0x98BADCFE;
    context->state[3] = 0x10325476;
    context->state[4] = 0xC3D2E1F0;
    context->length = 0;
}

void gitmtime_sha1_update(gitmtime_sha1 *context, const void *bytes, size_t count) {
    const uint8_t *data = bytes;
    size_t used = (size_t)(context->length % 64);
    context->length += count;
    block_function blocks = blocks_function();
    if (used > 0) {
        size_t take = 64 - used < count ? 64 - used : count;
        memcpy(context->pending + used, data, take);
        data += take;
        count -= take;
        if (used + take < 64) return;
        blocks(context->state, context->pending, 1);
    }
    if (count >= 64) {
        blocks(context->state, data, count / 64);
        data += count / 64 * 64;
        count %= 64;
    }
    if (count > 0) memcpy(context->pending, data, count);
}

void gitmtime_sha1_final(gitmtime_sha1 *context, uint8_t digest[20]) {
    const uint64_t bits = context->length * 8;
    size_t used = (size_t)(context->length % 64);
    context->pending[used++] = 0x80;
    if (used > 56) {
        memset(context->pending + used, 0, 64 - used);
        blocks_function()(context->state, context->pending, 1);
        used = 0;
    }
    memset(context->pending + used, 0, 56 - used);
    for (int i = 0; i < 8; i++) context->pending[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    blocks_function()(context->state, context->pending, 1);
    for (int i = 0; i < 5; i++) {
        digest[4 * i] = (uint8_t)(context->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(context->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(context->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)context->state[i];
    }
}
