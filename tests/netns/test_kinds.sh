#!/bin/bash
#
# test_kinds.sh - every semantic rule the tap ports follow holds on the
# other port kinds: the suites written for taps, run again on veth pairs
# attached as each netdev kind (TS_PORT_KIND, lib.sh hosts_setup): the
# daemon in a namespace of its own, each port a veth whose peer of the
# same name sits in the host namespace, so every frame, tag, count and
# trace record the suites expect is checked through the other kind.
#
# Where a netdev's kernel receive path differs from a tap's - it takes a
# VLAN tag out of the frame (the kind puts it back), it drops a frame
# whose tag is cut short before any packet socket sees it - the suites
# say so and expect what the kernel does.
#
# TS_KINDS (default "afpacket") and TS_KIND_SUITES choose what runs.
#
# ts-timeout: 900
set -u
cd "$(dirname "$0")" || exit 1

KINDS=${TS_KINDS:-afpacket}
SUITES=${TS_KIND_SUITES:-forwarding learning vlan trace capture linklocal
	ping diff_kbridge diff_kbridge_vlan ageing monitor}

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }

failed=()
ran=0
for kind in $KINDS; do
	for suite in $SUITES; do
		echo "=== $suite on $kind ports"
		rc=0
		TS_PORT_KIND=$kind bash "./test_$suite.sh" || rc=$?
		case $rc in
		0) ran=$((ran + 1)) ;;
		77) echo "    (skipped on $kind)" ;;
		*) failed+=("$suite/$kind") ;;
		esac
	done
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAIL: ${failed[*]}"
	exit 1
fi
# Every suite skipped is nothing tested: not a pass.
[ "$ran" -gt 0 ] || { echo "SKIP: every suite skipped"; exit 77; }
echo "ok - $ran suites pass on ${KINDS// /, } ports"
