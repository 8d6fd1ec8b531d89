/*
 * fuzz_trace.c -- libFuzzer target: any bytes as a trace file, through trace_load (both
 *                 formats, plain or gzip: fuzz_file.h's mode byte).
 *
 * Design:      the reader must accept the file or report an error (trace.h), and never
 *              crash, leak (ASan's leak check) or hang (libFuzzer's -timeout). A trace it
 *              accepts is written back in its own format and read again: the second
 *              reading must accept it and give the same operations, so everything the
 *              reader lets through is something the writer and reader agree on.
 */
#include <string.h>

#include "fuzz_file.h"
#include "fuzz_ops.h"
#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    fuzz_write_input(data, len);
    trace_t t, again;
    if (trace_load(fuzz_scratch.in, &t) != 0)
        return 0;
    FUZZ_REQUIRE(trace_write(&t, fuzz_scratch.out, t.format, 0, NULL) == 0,
                 "an accepted trace cannot be written back");
    FUZZ_REQUIRE(trace_load(fuzz_scratch.out, &again) == 0,
                 "a trace written back from an accepted one is rejected");
    FUZZ_REQUIRE(again.num_ops == t.num_ops && again.format == t.format &&
                     (t.num_ops == 0 || /* no ops: both NULL, which memcmp may not get */
                      memcmp(again.ops, t.ops, (size_t)t.num_ops * sizeof *t.ops) == 0),
                 "a trace written back reads as different operations");
    trace_free(&again);
    trace_free(&t);
    return 0;
}
