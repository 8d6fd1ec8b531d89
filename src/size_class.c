/*
 * size_class.c -- size -> class mapping: the class table and the direct table.
 *
 * Design:      classes 1..8 are 16..128 bytes in steps of 16; above 128, each power of
 *              two (2^p, 2^(p+1)] is split into four classes 2^p + k*2^(p-2), k = 1..4.
 *              Worst-case rounding waste is just under 20% of the block (a request of
 *              2^p + 1 gets 2^p + 2^(p-2)); about 10% on average for uniform sizes.
 *              For n > 1024: w = n-1, p = floor(log2 w), class = 9 + 4(p-7) + ((w >> (p-2)) & 3)
 *              (internal.h hki_size_class). For n <= 1024 a table indexed by (n+15)/16.
 *              A class size that is a multiple of 2^k is 2^k-aligned in every page
 *              (page areas start at multiples of 64 KiB): aligned.c relies on it.
 * Invariants:  C1 hki_class_size is strictly increasing; C2 hki_size_class(n) is the
 *              smallest class with size >= n (tests/api checks both for every n <= 1 MiB
 *              sampled; hk_heap_check checks C1).
 */
#include "config.h"
#include "internal.h"

// clang-format off
const uint32_t hki_class_size[HK_CLASS_COUNT] = {
    0, 16, 32, 48, 64, 80, 96, 112, 128,
    160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024,
    1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
    10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536,
    81920, 98304, 114688, 131072, 163840, 196608, 229376, 262144,
    327680, 393216, 458752, 524288, 655360, 786432, 917504, 1048576,
};

/* class of the sizes ((i-1)*16, i*16]; entry 0 serves malloc(0) */
const uint8_t hki_direct_class[HK_DIRECT_COUNT] = {
    1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10, 10, 11, 11, 12, 12,
    13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 16,
    17, 17, 17, 17, 17, 17, 17, 17, 18, 18, 18, 18, 18, 18, 18, 18,
    19, 19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20, 20, 20, 20, 20,
};
// clang-format on
