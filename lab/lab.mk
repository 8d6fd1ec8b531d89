# lab/lab.mk -- the policy lab: memory source, front layer, registry, one file per policy.
LAB_SRCS := lab/mem.c lab/dispatch.c lab/walk.c lab/registry.c lab/bitbins.c \
            lab/minimal.c lab/pad.c lab/list.c lab/implicit.c lab/tagheap.c lab/dlist.c lab/bins.c \
            lab/segfit.c lab/buddy.c lab/slab.c lab/vm.c lab/gnu.c lab/pagemeta.c \
            lab/hkfit.c lab/hkfit_span.c lab/hkfit_run.c lab/hkfit_index.c lab/hkfit_pcache.c \
            lab/hkfit_map.c lab/hkfit_check.c lab/libc.c
LAB_OBJS := $(LAB_SRCS:%.c=$(BUILD)/obj/%.o)
LAB_LIB  := $(BUILD)/liblab.a
LAB_CPPFLAGS := -Ilab

$(LAB_OBJS): CPPFLAGS += $(LAB_CPPFLAGS)
$(LAB_LIB): $(LAB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

all: $(LAB_LIB)
