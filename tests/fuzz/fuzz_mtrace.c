/*
 * fuzz_mtrace.c -- libFuzzer target: any bytes as a glibc MALLOC_TRACE log, through
 *                  `heapkit import mtrace LOG -o OUT` (import_main; plain or gzip:
 *                  fuzz_file.h's mode byte).
 *
 * Design:      the importer must write a trace (status 0) or report the bad line (status
 *              2), never crash, leak or hang; a trace it writes must load (trace_load
 *              accepts it), since it is meant to be replayed.
 */
#include "fuzz_file.h"
#include "fuzz_ops.h"
#include "import.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    fuzz_write_input(data, len);
    char a0[] = "import", a1[] = "mtrace", a3[] = "-o";
    char *argv[] = {a0, a1, fuzz_scratch.in, a3, fuzz_scratch.out, NULL};
    int status = import_main(5, argv);
    FUZZ_REQUIRE(status == 0 || status == 2, "import exited with status %d", status);
    if (status != 0)
        return 0;
    trace_t t;
    FUZZ_REQUIRE(trace_load(fuzz_scratch.out, &t) == 0, "an imported trace does not load");
    trace_free(&t);
    return 0;
}
