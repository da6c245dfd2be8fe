# bench/micro.mk - the microbenchmarks (included by the main Makefile).
#
#   make bench-micro                      build and run both (bench/micro.sh)
#   make bench-micro MICRO_ARGS=--quick   a short run, well under a minute
#
# Each links the data plane and the table as the unit tests do; DP_SRC,
# FDB_SRC and LDLIBS come from the Makefile, so sources or libraries added
# there are picked up here.
#
# micro_pipeline counts the pipeline's calls into the table: the linker
# sends the calls to fdb_learn_rcu() and fdb_lookup_rcu() through counting
# wrappers in bench/micro_pipeline.c (--wrap; MICRO_COUNT_CALLS tells it
# they are there).  The flags go on the link command itself, not on the
# target: a target-specific variable would reach the data plane's objects
# built for it.

MICRO_PIPELINE := $(BUILD)/bench/micro_pipeline
MICRO_FDB      := $(BUILD)/bench/micro_fdb

MICRO_BINS += $(MICRO_PIPELINE) $(MICRO_FDB)

MICRO_WRAP := -Wl,--wrap=fdb_learn_rcu -Wl,--wrap=fdb_lookup_rcu

$(BUILD)/bench/micro_pipeline.o: override CFLAGS += -DMICRO_COUNT_CALLS

$(MICRO_PIPELINE): $(call obj,bench/micro_pipeline.c $(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) $(MICRO_WRAP) -o $@ $^ $(LDLIBS)

$(MICRO_FDB): $(call obj,bench/micro_fdb.c $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
