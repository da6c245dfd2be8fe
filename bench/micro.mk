# bench/micro.mk - the microbenchmarks (included by the main Makefile).
#
#   make bench-micro                      build and run both (bench/micro.sh)
#   make bench-micro MICRO_ARGS=--quick   a short run, well under a minute
#
# Each links the data plane and the table as the unit tests do; DP_SRC,
# FDB_SRC and LDLIBS come from the Makefile, so sources or libraries added
# there are picked up here.  The liburcu version goes in as a string: the
# benchmarks read the FDB's bucket count from liburcu 0.13's internals
# (bench/micro_common.h, mc_lfht_peek()) and only from that version.

MICRO_PIPELINE := $(BUILD)/bench/micro_pipeline
MICRO_FDB      := $(BUILD)/bench/micro_fdb

MICRO_BINS += $(MICRO_PIPELINE) $(MICRO_FDB)

MICRO_URCU_VERSION := $(shell $(PKG_CONFIG) --modversion liburcu-cds \
	2>/dev/null)

$(BUILD)/bench/micro_%.o: override CFLAGS += \
	-DMICRO_URCU_VERSION='"$(MICRO_URCU_VERSION)"'

$(MICRO_PIPELINE): $(call obj,bench/micro_pipeline.c $(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(MICRO_FDB): $(call obj,bench/micro_fdb.c $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
