/*
 * test_walk.c -- the checker of the walk contract (lab/walk.c): a walk that breaks one
 * rule of W1-W6 at a time must be reported under that rule's id.
 *
 * Design:      A faulty policy is a copy of a real one (dlist-first, whose walk passes)
 *              with its walk wrapped: the wrapper passes the real regions on, damaging
 *              one of them the way `fault` says. The heap holds live and free blocks and
 *              a prologue and epilogue (META), so every kind of damage has something to
 *              act on.
 */
#include "policy/policy_test.h"

typedef enum fault {
    F_NONE,
    F_DROP_FREE,      /* a free region is missing: W3, W5 */
    F_REPEAT,         /* a region comes twice: W2 */
    F_OUTSIDE,        /* a region moved past the break: W1 */
    F_EMPTY,          /* a region of size 0: W1 */
    F_BLOCK_AS_META,  /* a block reported as META: W4 */
    F_MISALIGNED,     /* a block's payload off by 8: W4 */
    F_META_PAYLOAD,   /* a META region with a payload: W4 */
    F_META_AS_DEAD,   /* the prologue reported as DEAD, in a policy that reuses memory: W6 */
    F_SWAP,           /* two regions out of order: W2 */
} fault_t;

static fault_t       fault;
static lab_policy_t  faulty;     /* dlist-first with walk = faulty_walk */
static lab_walk_fn   real_fn;
static void         *real_ctx;
static lab_region_t  held;       /* F_SWAP: the region held back */
static bool          holding, done;

/* Passes the real walk's regions on, damaging the first one the fault applies to. */
static void damage(void *ctx, const lab_region_t *g)
{
    (void)ctx;
    lab_region_t r = *g;
    bool free_block = r.kind == LAB_REGION_FREE, block = r.kind == LAB_REGION_BLOCK;
    if (!done && fault == F_SWAP && holding) {
        real_fn(real_ctx, &r);
        real_fn(real_ctx, &held);
        holding = false;
        done = true;
        return;
    }
    if (!done && fault == F_SWAP) {
        held = r;
        holding = true;
        return;
    }
    bool meta = r.kind == LAB_REGION_META;
    bool applies = (block && (fault == F_BLOCK_AS_META || fault == F_MISALIGNED)) ||
                   (free_block && fault == F_DROP_FREE) || fault == F_REPEAT ||
                   (meta && (fault == F_OUTSIDE || fault == F_EMPTY || fault == F_META_PAYLOAD ||
                             fault == F_META_AS_DEAD));
    if (!done && applies) {
        done = true;
        switch (fault) {
        case F_DROP_FREE:
            return;
        case F_REPEAT:
            real_fn(real_ctx, &r);
            break;
        case F_OUTSIDE:
            r.start += (size_t)1 << 30;
            break;
        case F_EMPTY:
            r.size = 0;
            break;
        case F_BLOCK_AS_META:
            r.kind = LAB_REGION_META;
            r.payload = NULL;
            break;
        case F_MISALIGNED:
            r.payload = (const char *)r.payload + 8;
            break;
        case F_META_PAYLOAD:
            r.payload = (const void *)r.start;
            break;
        case F_META_AS_DEAD:
            r.kind = LAB_REGION_DEAD;
            break;
        case F_NONE:
        case F_SWAP:
            break;
        }
    }
    real_fn(real_ctx, &r);
}

static void faulty_walk(void *st, lab_walk_fn fn, void *ctx)
{
    real_fn = fn;
    real_ctx = ctx;
    holding = done = false;
    lab_policy_find("dlist-first")->walk(st, damage, NULL);
}

/* The checker's verdict on the faulty walk: true when the first violation is `id`. */
static bool walk_finds(fault_t f, const char *id)
{
    lab_heap_t h;
    if (!pt_open_policy(&h, &faulty, 16))
        return false;
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 200), *c = lab_malloc(&h, 300);
    bool ok = a && b && c && lab_free(&h, b) == LAB_OK;
    fault = f;
    lab_report_t r = {0};
    int n = ok ? lab_walk_check(&h, &r) : -1;
    ok = ok && (id ? n > 0 && strncmp(r.first, id, strlen(id)) == 0 : n == 0);
    if (!ok)
        fprintf(stderr, "  fault %d: expected %s, got %d: %s\n", (int)f, id ? id : "nothing", n,
                r.first);
    fault = F_NONE;
    lab_heap_close(&h);
    return ok;
}

int main(void)
{
    faulty = *lab_policy_find("dlist-first");
    faulty.walk = faulty_walk;
    CHECK("an intact walk passes", walk_finds(F_NONE, NULL));
    CHECK("a missing region: W3", walk_finds(F_DROP_FREE, "W3"));
    CHECK("a region twice: W2", walk_finds(F_REPEAT, "W2"));
    CHECK("a region outside the heap: W1", walk_finds(F_OUTSIDE, "W1"));
    CHECK("an empty region: W1", walk_finds(F_EMPTY, "W1"));
    CHECK("a block as META: W4", walk_finds(F_BLOCK_AS_META, "W4"));
    CHECK("a misaligned payload: W4", walk_finds(F_MISALIGNED, "W4"));
    CHECK("a META region with a payload: W4", walk_finds(F_META_PAYLOAD, "W4"));
    CHECK("DEAD where memory is reused: W6", walk_finds(F_META_AS_DEAD, "W6"));
    CHECK("two regions swapped: W2", walk_finds(F_SWAP, "W2"));
    lab_heap_t h;
    lab_report_t r = {0};
    CHECK("libc has no walk: -1", pt_open(&h, "libc", 16) && lab_walk_check(&h, &r) == -1 &&
                                      lab_walk(&h, damage, NULL) == -1);
    lab_heap_close(&h);
    return hk_test_summary();
}
