/*
 * regrow.c -- buffers that realloc grew are reused, not mapped and faulted in again.
 *
 * 200 buffers grow by realloc in steps of about an eighth to 256 KiB, as string builders
 * and vectors do, and are freed; then again, three times. From the second round on, the
 * growths take memory whose pages are still resident, so a round costs a fraction of
 * the first one's page faults. Past 64 KiB each buffer is a span (src/types.h), grown in
 * place over the free slots after it or moved to another span (realloc.c), whose freed
 * slots wait committed for the purge delay; before spans, from 128 KiB on each lived in
 * a mapping of its own (huge.c), and with the huge cache at 8 entries every round
 * faulted in all of its 51 MB again. Run with a long HEAPKIT_PURGE_DELAY so that nothing
 * expires meanwhile. hk_heap_check passes after.
 */
#include <sys/resource.h>

#include "robust.h"

#define BUFFERS 200
#define FINAL   ((size_t)256 << 10)

static long faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

/* One round: grow every buffer to FINAL, writing what it adds, then free them all.
 * Returns the page faults it took, or -1 if a buffer lost its data. */
static long round_faults(void)
{
    unsigned char *buf[BUFFERS] = {0};
    size_t len[BUFFERS] = {0};
    long before = faults();
    for (int grown = 0; grown < BUFFERS;) {
        grown = 0;
        for (int b = 0; b < BUFFERS; b++) {
            if (len[b] == FINAL) {
                grown++;
                continue;
            }
            size_t n = len[b] + len[b] / 8 + 64;
            n = n > FINAL ? FINAL : n;
            unsigned char *p = realloc(buf[b], n);
            if (p == NULL || (len[b] != 0 && p[len[b] - 1] != (unsigned char)b))
                return -1;
            memset(p + len[b], b, n - len[b]);
            buf[b] = p;
            len[b] = n;
        }
    }
    for (int b = 0; b < BUFFERS; b++)
        free(buf[b]);
    return faults() - before;
}

int main(void)
{
    void *probe = malloc(100);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);
    long first = round_faults();
    CHECK("round 1 kept every buffer's data", first >= 0);
    for (int r = 2; r <= 4; r++) {
        long again = round_faults();
        if (again < 0 || again * 4 > first)
            fprintf(stderr, "regrow: round %d took %ld page faults, round 1 %ld\n", r, again, first);
        CHECK("a later round reuses the mappings (under 1/4 of round 1's faults)",
              again >= 0 && again * 4 <= first);
    }
#ifdef RB_STATIC
    CHECK("heap check", hk_heap_check(NULL) == 0);
#endif
    return hk_test_summary();
}
