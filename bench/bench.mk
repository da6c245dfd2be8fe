# bench/bench.mk - the A/B harness's tools, included by the main Makefile.
#
#   make bench           bench-deps, the tools, then bench/run.sh $(BENCH_ARGS)
#   make bench-deps      install the Debian packages the harness uses
#
# The harness needs iperf3 (TCP), gnuplot-nox (the chart) and jq; Open
# vSwitch and VDE are the backends it compares against.  As the Makefile's
# `deps` does: each tool is checked with `command -v`, and only when
# something is missing does it run `apt-get update` once and `apt-get
# install -y` of exactly the missing packages.  The required ones first (a
# failure there is an error); then Open vSwitch and VDE, whose failure is
# only a note: run.sh skips a backend whose tools are absent.  Installing
# openvswitch-switch must not start Open vSwitch in the root namespace:
# where no /usr/sbin/policy-rc.d forbids it already, one that does (exit
# 101, Debian's way to say "start no service") is put there for the
# install and removed after.

BENCH_PKTGEN := $(BUILD)/bench/pktgen
BENCH_BINS   += $(BENCH_PKTGEN)

BENCH_DEB_TOOLS := iperf3:iperf3 gnuplot-nox:gnuplot jq:jq iproute2:ip \
	iputils-ping:ping procps:ps coreutils:timeout ethtool:ethtool
BENCH_DEB_OPTIONAL := openvswitch-switch:ovs-vswitchd \
	openvswitch-common:ovsdb-tool vde2:vde_switch

$(BENCH_PKTGEN): $(call obj,bench/pktgen.c)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^

bench-deps:
	$(Q)need=; want=; guard=; \
	for p in $(BENCH_DEB_TOOLS); do \
		command -v $${p#*:} >/dev/null 2>&1 || need="$$need $${p%%:*}"; \
	done; \
	for p in $(BENCH_DEB_OPTIONAL); do \
		command -v $${p#*:} >/dev/null 2>&1 || \
			case " $$want " in *" $${p%%:*} "*) ;; \
			*) want="$$want $${p%%:*}" ;; esac; \
	done; \
	if [ -z "$$need$$want" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		if [ -n "$$need" ]; then \
			echo "Error: missing Debian packages:$$need (run as root, or install them)" >&2; exit 1; \
		fi; \
		echo "note: not root, not installing$$want: those backends will be skipped"; \
		exit 0; \
	fi; \
	DEBIAN_FRONTEND=noninteractive apt-get update -q || \
		{ [ -z "$$need" ] || exit 1; }; \
	if [ -n "$$need" ]; then \
		echo "installing:$$need"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$need || exit 1; \
	fi; \
	if [ -n "$$want" ] && [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; \
		chmod 755 /usr/sbin/policy-rc.d; guard=1; \
	fi; \
	for p in $$want; do \
		echo "installing: $$p"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$p || \
			echo "note: could not install $$p: its backend will be skipped"; \
	done; \
	[ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; \
	exit 0
