# mk/fuzz.mk - the libFuzzer targets (fuzz/fuzz_*.c): built with clang
# under ASan and UBSan into $(FUZZ_BUILD)/, never mixed with the gcc
# objects of $(BUILD)/.  Included by the Makefile after the source lists
# (LIB_SRC, FDB_SRC, DP_SRC, SW_LIB_SRC, SW_SRC) and install_missing are
# set; before that it can be driven as
#
#	make -f Makefile -f mk/fuzz.mk fuzz FUZZ_S=30
#
#   make fuzz-deps     install clang and its libFuzzer runtime if missing
#   make fuzz-bins     build $(FUZZ_BUILD)/fuzz/fuzz_{pipeline,offload,ctl,wire}
#   make fuzz          build, then run each FUZZ_S seconds (default 60)
#                      from its seeds, a summary line each; fails on a crash
#   make fuzz-smoke    the same, 20 s each
#
# `make test` builds the targets too (the hook at the bottom), and
# tests/netns/test_fuzz.sh runs each for 20 s; see fuzz/README.md.

FUZZ_CC    ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_S     ?= 60

# fuzz/ubsan.ignorelist: one check off where liburcu's macros trip it.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fsanitize-ignorelist=fuzz/ubsan.ignorelist -fno-omit-frame-pointer
# clang 14 does not define __SANITIZE_ADDRESS__, which lib/rcu.h looks
# for: TS_DEBUG turns the context checks (rcu_assert_*, sw_assert_locked)
# on all the same.  The project's own sources get its warnings without
# -Werror: a warning only clang gives must not stop a fuzzing run.
FUZZ_CFLAGS := -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -DTS_DEBUG \
	-std=gnu11 -D_GNU_SOURCE -I. -pthread \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) \
	-Wall -Wextra -Wshadow -Wformat=2 -Wwrite-strings -Wundef \
	-Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
	-MMD -MP
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined -pthread

fuzz_obj = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(1))

FUZZ_TARGETS := pipeline offload ctl wire
FUZZ_BINS := $(patsubst %,$(FUZZ_BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

# What each target links: the harness and the folders it drives.
FUZZ_CTL_SRC := $(filter-out switch/main.c,$(SW_SRC)) $(DP_SRC) $(FDB_SRC)

.PHONY: fuzz fuzz-smoke fuzz-bins fuzz-deps

$(FUZZ_BUILD)/fuzz/fuzz_offload: $(call fuzz_obj,fuzz/fuzz_offload.c \
		dataplane/offload.c)
$(FUZZ_BUILD)/fuzz/fuzz_pipeline: $(call fuzz_obj,fuzz/fuzz_pipeline.c \
		$(DP_SRC) $(FDB_SRC))
$(FUZZ_BUILD)/fuzz/fuzz_ctl: $(call fuzz_obj,fuzz/fuzz_ctl.c $(FUZZ_CTL_SRC))
$(FUZZ_BUILD)/fuzz/fuzz_wire: $(call fuzz_obj,fuzz/fuzz_wire.c $(LIB_SRC))

$(FUZZ_BINS):
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_LDFLAGS) -o $@ $^ $(LDLIBS)

# fuzz-deps first (order-only: it never makes an object out of date), so
# that clang is there before the first object, with -j too.
$(FUZZ_BUILD)/%.o: %.c | fuzz-deps
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# The harnesses are ours: they must build clean.
$(FUZZ_BUILD)/fuzz/%.o: override FUZZ_CFLAGS += -Werror

# clang, and the runtime -fsanitize=fuzzer links (libclang_rt.fuzzer):
# the Makefile's DEB_FUZZ_TOOLS, installed as everything else is - only
# what is missing, after one `apt-get update`.
fuzz-deps:
	$(call install_missing,$(DEB_TOOLS) $(DEB_BUILD_TOOLS) $(DEB_FUZZ_TOOLS))

fuzz-bins: $(FUZZ_BINS)

# Each target runs from a working corpus in $(FUZZ_BUILD)/corpus/ (what
# it finds stays there, not in the tree), seeded from fuzz/corpus/.
fuzz: fuzz-bins
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) fuzz/run.sh -t $(FUZZ_S) \
		-w $(FUZZ_BUILD)/corpus $(FUZZ_TARGETS)

fuzz-smoke: FUZZ_S := 20
fuzz-smoke: fuzz

# `make test` builds the targets, so that tests/netns/test_fuzz.sh runs
# them rather than skipping.
test: fuzz-bins

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
