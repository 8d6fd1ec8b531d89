/*
 * trace_replay.c -- replays real programs' allocation traces through malloc/realloc/free.
 * The CS:APP traces cccp, cp-decl, expr and amptjp were recorded from real programs (a C
 * preprocessor, a compiler pass, an expression evaluator, a Fortran tool); they are
 * replayed here as a loop, every block touched on allocation and checked before free.
 *   trace_replay REPS TRACE...
 * Trace validation is the job of `heapkit replay`; this reader trusts its input.
 */
#include "common.h"

#include <string.h>

typedef struct op {
    char   kind; /* 'a', 'r', 'f' */
    int    id;
    size_t size;
} op_t;

typedef struct trace {
    op_t *ops;
    int   count, ids;
} trace_t;

static int load(const char *path, trace_t *t)
{
    FILE *f = fopen(path, "r");
    long heap, ids, count, weight;
    if (!f || fscanf(f, "%ld %ld %ld %ld", &heap, &ids, &count, &weight) != 4 || ids <= 0 || count <= 0)
        return -1;
    t->ops = calloc((size_t)count, sizeof *t->ops);
    t->ids = (int)ids;
    t->count = 0;
    char kind;
    while (t->count < count && fscanf(f, " %c", &kind) == 1) {
        op_t *o = &t->ops[t->count++];
        o->kind = kind;
        if (fscanf(f, "%d", &o->id) != 1 || o->id < 0 || o->id >= ids)
            return -1;
        if (kind != 'f' && fscanf(f, "%zu", &o->size) != 1)
            return -1;
        if (o->size == 0)
            o->size = 1;
    }
    fclose(f);
    return 0;
}

static int run(const trace_t *t, void **ptr, size_t *size)
{
    for (int i = 0; i < t->count; i++) {
        const op_t *o = &t->ops[i];
        unsigned char tag = (unsigned char)o->id;
        if (o->kind == 'f' || o->kind == 'r') {
            if (ptr[o->id] && !bench_check(ptr[o->id], size[o->id], tag))
                return -1;
        }
        if (o->kind == 'a') {
            ptr[o->id] = malloc(o->size);
        } else if (o->kind == 'r') {
            ptr[o->id] = realloc(ptr[o->id], o->size);
        } else {
            free(ptr[o->id]);
            ptr[o->id] = NULL;
            continue;
        }
        size[o->id] = o->size;
        bench_touch(ptr[o->id], o->size, tag);
    }
    for (int id = 0; id < t->ids; id++) {
        free(ptr[id]);
        ptr[id] = NULL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long reps = bench_arg(argc, argv, 1, 200);
    trace_t traces[32];
    int n = 0, max_ids = 0;
    unsigned long long ops = 0;
    for (int i = 2; i < argc && n < 32; i++) {
        if (load(argv[i], &traces[n]) != 0)
            return fprintf(stderr, "trace_replay: cannot read %s\n", argv[i]), 2;
        if (traces[n].ids > max_ids)
            max_ids = traces[n].ids;
        n++;
    }
    if (n == 0)
        return fprintf(stderr, "usage: trace_replay REPS TRACE...\n"), 2;
    void **ptr = calloc((size_t)max_ids, sizeof *ptr);
    size_t *size = calloc((size_t)max_ids, sizeof *size);
    double t0 = bench_now();
    for (long r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) {
            if (run(&traces[i], ptr, size) != 0)
                return fprintf(stderr, "trace_replay: corrupted block\n"), 1;
            ops += (unsigned long long)traces[i].count;
        }
    bench_report("trace-replay", bench_now() - t0, ops);
    return 0;
}
