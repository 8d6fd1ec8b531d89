/* stub.h -- TEMPORARY placeholder so the tree builds while a policy is being written.
 * A stub policy fails every malloc. No stub may remain when a policy is called done. */
#ifndef LAB_STUB_H
#define LAB_STUB_H
#include "policy.h"
static int stub_init(void *st, lab_mem_t *m, const lab_cfg_t *c, int v)
{ (void)st; (void)m; (void)c; (void)v; return 0; }
static void *stub_malloc(void *st, size_t n) { (void)st; (void)n; return NULL; }
static lab_err_t stub_free(void *st, void *p) { (void)st; (void)p; return LAB_ERR_FOREIGN; }
static size_t stub_usable(void *st, const void *p) { (void)st; (void)p; return 0; }
static int stub_check(void *st, lab_report_t *r) { (void)st; (void)r; return 0; }
static void stub_stats(void *st, lab_stats_t *s) { (void)st; (void)s; }
#define LAB_STUB(sym, nm)                                                                          \
    const lab_policy_t sym = {.name = nm, .description = "(not yet implemented)", .state_size = 8, \
        .init = stub_init, .malloc = stub_malloc, .free = stub_free, .usable_size = stub_usable,   \
        .check = stub_check, .stats = stub_stats}
#endif
