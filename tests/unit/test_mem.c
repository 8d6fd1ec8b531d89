/* test_mem.c -- the lab memory source: growth, limits, mappings, invariants M1-M3. */
#include "harness.h"
#include "mem.h"
#include "policy.h"

#include <string.h>

static void test_sbrk_and_limit(void)
{
    lab_mem_t m;
    REQUIRE("init", lab_mem_init(&m, 64 * LAB_PAGE_SIZE) == 0);
    char *a = lab_mem_sbrk(&m, 100);
    char *b = lab_mem_sbrk(&m, 200);
    CHECK("sbrk returns the old break", a == (char *)m.base && b == a + 100);
    CHECK("growth calls counted", m.grow_calls == 2);
    CHECK("sbrk(0) is the break and not a growth", lab_mem_sbrk(&m, 0) == a + 300 && m.grow_calls == 2);
    CHECK("over the limit fails", lab_mem_sbrk(&m, 64 * LAB_PAGE_SIZE) == NULL);
    CHECK("footprint", lab_mem_footprint(&m) == 300 && m.peak_footprint == 300);
    memset(a, 0xA5, 300);
    lab_mem_trim(&m, 100);
    CHECK("trim lowers footprint, not peak", lab_mem_footprint(&m) == 200 && m.peak_footprint == 300);
    CHECK("contains", lab_mem_contains(&m, a, 200) && !lab_mem_contains(&m, a, 201));
    lab_report_t r = {0};
    CHECK("check clean", lab_mem_check(&m, &r) == 0);
    lab_mem_fini(&m);
}

static void test_mappings(void)
{
    lab_mem_t m;
    REQUIRE("init", lab_mem_init(&m, 0) == 0);
    char *p = lab_mem_map(&m, 5000);
    char *q = lab_mem_map(&m, 1);
    REQUIRE("map", p && q);
    CHECK("rounded to pages", m.mapped == 3 * LAB_PAGE_SIZE);
    CHECK("zeroed", p[4999] == 0);
    CHECK("contains interior", lab_mem_contains(&m, p + 8000, 192) && !lab_mem_contains(&m, p + 8000, 193));
    CHECK("find", lab_mem_find_mapping(&m, p + 10) && lab_mem_find_mapping(&m, p + 10)->addr == (uintptr_t)p);
    CHECK("unmap wrong size refused", lab_mem_unmap(&m, p, 100) == -1);
    char *p2 = lab_mem_remap(&m, p, 5000, 40000);
    REQUIRE("remap", p2 != NULL);
    CHECK("remap accounting", m.mapped == 11 * LAB_PAGE_SIZE);
    lab_report_t r = {0};
    CHECK("check clean", lab_mem_check(&m, &r) == 0);
    CHECK("unmap", lab_mem_unmap(&m, p2, 40000) == 0 && lab_mem_unmap(&m, q, 1) == 0);
    CHECK("unmapped all", m.mapped == 0 && m.map_count == 0 && m.peak_footprint == 11 * LAB_PAGE_SIZE);
    CHECK("double unmap refused", lab_mem_unmap(&m, q, 1) == -1);
    lab_mem_fini(&m);
}

int main(void)
{
    test_sbrk_and_limit();
    test_mappings();
    return hk_test_summary();
}
