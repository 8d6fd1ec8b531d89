/*
 * size_class.c -- size -> class mapping: the class table and the direct table.
 *
 * Design:      classes 1..16 are 16..256 bytes in steps of 16 (the alignment); above 256,
 *              each power of two (2^p, 2^(p+1)] is split into eight classes
 *              2^p + k*2^(p-3), k = 1..8. Above 256 the rounding waste is at most 1/8 of
 *              the request (a request of 2^p + 1 gets 2^p + 2^(p-3)), 1/9 of the block,
 *              about 4% of the block on average for uniform sizes; below 256, under 16 bytes.
 *              Eight rather than four classes per doubling: four would waste up to 1/4
 *              of the request (20% of the block) for a few more pages in use.
 *              For n > 1024: w = n-1, p = floor(log2 w), class = 17 + 8(p-8) + ((w >> (p-3)) & 7)
 *              (internal.h hki_size_class). For n <= 1024 a table indexed by (n+15)/16.
 *              A class size that is a multiple of 2^k is 2^k-aligned in every page
 *              (page areas start at multiples of 64 KiB): aligned.c relies on it.
 * Invariants:  C1 hki_class_size is strictly increasing; C2 hki_size_class(n) is the
 *              smallest class with size >= n (tests/api checks both for every n <= 1 MiB
 *              sampled; hk_heap_check checks C1).
 */
#include "config.h"
#include "support.h"

// clang-format off
const uint32_t hki_class_size[HK_CLASS_COUNT] = {
    0,
    16, 32, 48, 64, 80, 96, 112, 128,
    144, 160, 176, 192, 208, 224, 240, 256,
    288, 320, 352, 384, 416, 448, 480, 512,
    576, 640, 704, 768, 832, 896, 960, 1024,
    1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
    2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096,
    4608, 5120, 5632, 6144, 6656, 7168, 7680, 8192,
    9216, 10240, 11264, 12288, 13312, 14336, 15360, 16384,
    18432, 20480, 22528, 24576, 26624, 28672, 30720, 32768,
    36864, 40960, 45056, 49152, 53248, 57344, 61440, 65536,
    73728, 81920, 90112, 98304, 106496, 114688, 122880, 131072,
    147456, 163840, 180224, 196608, 212992, 229376, 245760, 262144,
    294912, 327680, 360448, 393216, 425984, 458752, 491520, 524288,
    589824, 655360, 720896, 786432, 851968, 917504, 983040, 1048576,
};

/* class of the sizes ((i-1)*16, i*16]; entry 0 serves malloc(0) */
const uint8_t hki_direct_class[HK_DIRECT_COUNT] = {
    1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 24,
    25, 25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 27, 28, 28, 28, 28,
    29, 29, 29, 29, 30, 30, 30, 30, 31, 31, 31, 31, 32, 32, 32, 32,
};
// clang-format on
