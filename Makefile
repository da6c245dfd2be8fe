# tapswitch - a userspace Ethernet switch on tap devices.
#
#   make            build tapswitch and tapswitchctl (installs missing
#                   Debian build packages first)
#   make demo       build, then run a three-host lab through tapswitch
#   make test       build, then run the unit and black-box tests
#   make asan|tsan  the same tests under sanitizers, in build-asan/, build-tsan/
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX     ?= /usr/local
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc
BUILD      ?= build

PKGS    := liburcu-qsbr liburcu-cds libnl-route-3.0 libnl-3.0 liburing \
	libpcap libxdp libbpf
CFLAGS  ?= -O2 -g
override CFLAGS  += -std=gnu11 -D_GNU_SOURCE -I. -pthread
override CFLAGS  += $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
override CFLAGS  += -Wall -Wextra -Wshadow -Wformat=2 -Wwrite-strings -Wundef \
           -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
override CFLAGS  += $(if $(filter 0,$(WERROR)),,-Werror) -MMD -MP $(SAN)
override LDFLAGS += -pthread $(SAN)
LDLIBS  := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Debian packages the build, the tests and the demo need, and a command
# that shows each is there.
DEB_PKGS := pkg-config:pkg-config liburcu-dev:liburcu-qsbr \
	libnl-route-3-dev:libnl-route-3.0 libnl-3-dev:libnl-3.0 check:check \
	liburing-dev:liburing libpcap-dev:libpcap libxdp-dev:libxdp \
	libbpf-dev:libbpf
DEB_TOOLS := iproute2:ip jq:jq iputils-ping:ping procps:sysctl
DEB_BUILD_TOOLS := gcc:gcc make:make
# The fuzzers (mk/fuzz.mk): clang, and its libFuzzer runtime (a file:
# Debian 12's clang is 14).
DEB_FUZZ_TOOLS := clang:clang \
	libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a

.DEFAULT_GOAL := all

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

# Each folder's sources, bottom up; a binary links the folders it uses.
LIB_SRC  := lib/rcu.c lib/io.c lib/mac.c lib/ctl_wire.c lib/grammar.c \
	lib/lex.c
FDB_SRC  := fdb/fdb.c $(LIB_SRC)
VLAN_SRC := vlan/vlan.c
DP_SRC   := dataplane/dp.c dataplane/conf.c dataplane/settings.c \
	dataplane/ports.c dataplane/vlan_cfg.c dataplane/poll.c \
	dataplane/uring.c dataplane/offload.c dataplane/obs.c \
	dataplane/port_kinds.c dataplane/port_mem.c dataplane/port_tap.c \
	dataplane/port_afpacket.c dataplane/port_afxdp.c \
	dataplane/netdev.c $(VLAN_SRC)
# The switch without main.c and the control socket: what check_ops links.
SW_LIB_SRC := switch/sw.c switch/ops_port.c switch/ops_fdb.c \
	switch/ops_vlan.c switch/ops_switch.c switch/link.c switch/log.c \
	switch/observe.c
SW_SRC   := switch/main.c $(SW_LIB_SRC) switch/ctl_server.c \
	switch/ctl_port.c switch/ctl_fdb.c switch/ctl_vlan.c \
	switch/ctl_switch.c switch/ctl_watch.c
CLI_SRC  := cli/tapswitchctl.c cli/ctl_format.c

# What is generated from the command grammar (man pages, bash completion)
# and its tests: mk/docs.mk appends to DOCS (built with the binaries),
# EXTRA_UNIT_TESTS and INSTALL_EXTRA (run by install).
DOCS          :=
INSTALL_EXTRA :=
EXTRA_UNIT_TESTS :=
include mk/docs.mk

TAPSWITCH    := $(BUILD)/tapswitch
TAPSWITCHCTL := $(BUILD)/tapswitchctl
PKTIO        := $(BUILD)/tests/tools/pktio
TCPXFER      := $(BUILD)/tests/tools/tcpxfer
CTLPEER      := $(BUILD)/tests/tools/ctlpeer
UNIT_TESTS   := $(BUILD)/tests/check_fdb $(BUILD)/tests/check_dataplane \
	$(BUILD)/tests/check_ctl $(BUILD)/tests/check_vlan \
	$(BUILD)/tests/check_dp_vlan $(BUILD)/tests/check_offload \
	$(BUILD)/tests/check_ops $(BUILD)/tests/check_afpacket \
	$(BUILD)/tests/check_afxdp $(EXTRA_UNIT_TESTS)

.PHONY: all deps test-deps demo test unit-test netns-test asan tsan install \
	clean bench bench-micro bench-deps soak

all: deps
	$(Q)$(MAKE) --no-print-directory binaries

binaries: $(TAPSWITCH) $(TAPSWITCHCTL) $(PKTIO) $(TCPXFER) $(CTLPEER) $(DOCS)

# Install what is missing, once: apt-get update, then exactly the packages
# whose pkg-config module, command, or file (a check that starts with /)
# is absent.  The tests also read pcap files back with tshark, turn off a
# veth's checksum offload with ethtool (test_afxdp.sh), and build
# and run the fuzzers.
DEB_TEST_TOOLS := tshark:tshark ethtool:ethtool $(DEB_FUZZ_TOOLS)

define install_missing
	$(Q)missing=; \
	for p in $(DEB_PKGS); do \
		$(PKG_CONFIG) --exists $${p#*:} 2>/dev/null || missing="$$missing $${p%%:*}"; \
	done; \
	for p in $(1); do \
		c=$${p#*:}; \
		case $$c in \
		/*) ls $$c >/dev/null 2>&1 ;; \
		*) command -v $$c >/dev/null 2>&1 ;; \
		esac || missing="$$missing $${p%%:*}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then \
			echo "Error: missing Debian packages:$$missing (run as root, or install them)" >&2; exit 1; \
		fi; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_TOOLS) $(DEB_BUILD_TOOLS))

test-deps:
	$(call install_missing,$(DEB_TOOLS) $(DEB_BUILD_TOOLS) $(DEB_TEST_TOOLS))

$(TAPSWITCH): $(call obj,$(SW_SRC) $(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TAPSWITCHCTL): $(call obj,$(CLI_SRC) $(LIB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(PKTIO): $(call obj,tests/tools/pktio.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(TCPXFER): $(call obj,tests/tools/tcpxfer.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(CTLPEER): $(call obj,tests/tools/ctlpeer.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/check_fdb: $(call obj,tests/check_fdb.c $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/check_vlan: $(call obj,tests/check_vlan.c $(VLAN_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

$(BUILD)/tests/check_dp_vlan: $(call obj,tests/check_dp_vlan.c \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/check_offload: $(call obj,tests/check_offload.c \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/check_afxdp: $(call obj,tests/check_afxdp.c \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/check_afpacket: $(call obj,tests/check_afpacket.c \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/check_dataplane: $(call obj,tests/check_dataplane.c \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/tests/check_ctl: $(call obj,tests/check_ctl.c $(LIB_SRC) \
		cli/ctl_format.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS)

# The operations layer, on memory ports: no root needed.
$(BUILD)/tests/check_ops: $(call obj,tests/check_ops.c $(SW_LIB_SRC) \
		$(DP_SRC) $(FDB_SRC))
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: override CFLAGS += $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)

demo: all
	$(Q)BUILD=$(BUILD) tests/demo.sh

test: test-deps
	$(Q)$(MAKE) --no-print-directory binaries $(UNIT_TESTS)
	$(Q)BUILD=$(BUILD) tests/run.sh

unit-test: test-deps
	$(Q)$(MAKE) --no-print-directory binaries $(UNIT_TESTS)
	$(Q)BUILD=$(BUILD) tests/run.sh unit

netns-test: test-deps
	$(Q)$(MAKE) --no-print-directory binaries
	$(Q)BUILD=$(BUILD) tests/run.sh netns

# Sanitizer builds live in their own directories and run the same suites.
asan: test-deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		CFLAGS="-O1 -g" binaries $(subst $(BUILD),build-asan,$(UNIT_TESTS))
	$(Q)BUILD=build-asan CK_FORK=no \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run.sh

tsan: test-deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan \
		SAN="-fsanitize=thread" CFLAGS="-O1 -g" \
		binaries $(subst $(BUILD),build-tsan,$(UNIT_TESTS))
	$(Q)BUILD=build-tsan CK_FORK=no \
		TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
		tests/run.sh

# Benchmarks: never part of `make test`.  bench/bench.mk builds the
# harness's tools and bench/micro.mk the microbenchmarks; `make bench` runs
# the A/B harness (BENCH_ARGS=--quick for a short run), `make bench-micro`
# the microbenchmarks alone.
BENCH_BINS :=
MICRO_BINS :=
-include bench/bench.mk
-include bench/micro.mk
# The libFuzzer targets (fuzz/): `make fuzz`; `make test` builds them and
# runs each for 20 s (tests/netns/test_fuzz.sh).
include mk/fuzz.mk

bench: all
	$(Q)$(MAKE) --no-print-directory bench-deps $(BENCH_BINS) $(MICRO_BINS)
	$(Q)BUILD=$(BUILD) bench/run.sh $(BENCH_ARGS)

# The soak (tests/soak/soak.sh): the ASan build under load for SOAK_S
# seconds (default 600); never part of `make test`.
SOAK_S ?= 600
soak: test-deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
		SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		CFLAGS="-O1 -g" binaries build-asan/bench/pktgen
	$(Q)BUILD=build-asan SOAK_S=$(SOAK_S) \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		timeout -k 30 $$(($(SOAK_S) + 300)) tests/soak/soak.sh

bench-micro: all
	$(Q)$(MAKE) --no-print-directory $(MICRO_BINS)
	$(Q)BUILD=$(BUILD) bench/micro.sh $(MICRO_ARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(TAPSWITCH) $(DESTDIR)$(PREFIX)/sbin/tapswitch
	install -m 0755 $(TAPSWITCHCTL) $(DESTDIR)$(PREFIX)/bin/tapswitchctl
	$(Q)$(MAKE) --no-print-directory $(INSTALL_EXTRA)

clean:
	rm -rf build build-asan build-tsan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
