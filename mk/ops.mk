# mk/ops.mk - the switch's operations layer (switch/ops*.c) and its unit
# tests, which run without root on memory ports.  Included by the Makefile
# after DP_SRC, FDB_SRC and CHECK_LIBS are set (they are expanded in the
# prerequisites here, as they are read).
#
# SW_LIB_SRC: switch/ without main.c and the control socket (ctl_*.c), so
# that a test can link the daemon's switch without the daemon.

SW_LIB_SRC := switch/sw.c switch/ops_port.c switch/ops_fdb.c \
	switch/ops_vlan.c switch/ops_switch.c switch/link.c switch/log.c \
	switch/observe.c

OPS_UNIT_TESTS := $(BUILD)/tests/check_ops
EXTRA_UNIT_TESTS += $(OPS_UNIT_TESTS)
# UNIT_TESTS took EXTRA_UNIT_TESTS when it was set (:=); included after
# that, add the test there too, once.
UNIT_TESTS += $(filter-out $(UNIT_TESTS),$(OPS_UNIT_TESTS))

$(BUILD)/tests/check_ops: $(call obj,tests/check_ops.c $(SW_LIB_SRC) \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)
