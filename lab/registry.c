/*
 * registry.c -- every lab policy, in the order tables list them.
 *
 * The only place that knows the whole set; tools and tests iterate lab_policies[].
 */
#include "policy.h"

#include <string.h>

extern const lab_policy_t lab_policy_minimal, lab_policy_pad, lab_policy_list,
    lab_policy_implicit_first, lab_policy_implicit_next, lab_policy_implicit_best,
    lab_policy_dlist_first, lab_policy_dlist_next, lab_policy_dlist_best, lab_policy_dlist_worst,
    lab_policy_bins, lab_policy_segfit, lab_policy_buddy, lab_policy_slab, lab_policy_vm,
    lab_policy_gnu, lab_policy_pagemeta, lab_policy_libc, lab_policy_hkfit;

const lab_policy_t *const lab_policies[] = {
    &lab_policy_minimal,
    &lab_policy_pad,
    &lab_policy_list,
    &lab_policy_implicit_first,
    &lab_policy_implicit_next,
    &lab_policy_implicit_best,
    &lab_policy_dlist_first,
    &lab_policy_dlist_next,
    &lab_policy_dlist_best,
    &lab_policy_dlist_worst,
    &lab_policy_bins,
    &lab_policy_segfit,
    &lab_policy_buddy,
    &lab_policy_slab,
    &lab_policy_vm,
    &lab_policy_gnu,
    &lab_policy_pagemeta,
    &lab_policy_hkfit,
    &lab_policy_libc,
    NULL,
};

const lab_policy_t *lab_policy_find(const char *name)
{
    for (const lab_policy_t *const *p = lab_policies; *p; p++)
        if (strcmp((*p)->name, name) == 0)
            return *p;
    return NULL;
}
