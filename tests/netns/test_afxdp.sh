#!/bin/bash
#
# test_afxdp.sh - ports on existing network devices through AF_XDP (the
# afxdp kind): attached with libxdp's program in native mode on veth (copy
# mode: veth has no zero-copy), promiscuous while attached; forwarding and
# learning; TCP through it whole (the switch cuts up super-frames for a
# port without offloads, and the checksums arrive right); a device whose
# MTU an AF_XDP frame cannot hold is refused with a clear error; port del
# and exit take the program off and leave the device as it was.  The
# forwarding rules themselves run on this kind in test_kinds_afxdp.sh.
# A kernel or device without XDP makes this test skip, with the reason.
#
#      h0            h1            h2           host namespaces
#     tsXt0         tsXt1         tsXt2         veth peers (tsXt2: a tap)
#       |             |             |
#     tsXt0         tsXt1           |           veths in sw
#       +------- tapswitch (in sw) -+
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

BC=ff:ff:ff:ff:ff:ff
A=02:00:00:00:0b:0a B=02:00:00:00:0b:0b C=02:00:00:00:0b:0c

# Can this kernel attach an AF_XDP port at all?  A daemon in a scratch
# namespace says.
xdp_probe
TS_PORT_KIND=afxdp hosts_setup 2
T0=${TAPS[0]} T1=${TAPS[1]} H0=${HOSTS[0]} H1=${HOSTS[1]}
H2=$TS_ID-h2 X=${TS_ID}x
ns_add "$H2"

sw_link() { ip -n "$SW_NS" -d -j link show dev "$1"; }

for t in "$T0" "$T1"; do
	assert_eq "$t kind" afxdp "$(port_field "$t" kind)"
	assert_eq "$t io" xdp_native_copy "$(port_field "$t" io)"
	assert_json "$t: an XDP program, promiscuous, up" "$(sw_link "$t")" \
		'.[0] | has("xdp") and .promiscuity == 1 and (.flags | index("UP"))'
done
ok "type afxdp attaches veths: native XDP, copy mode, promiscuous"

# A tap beside them.
ctl port add "$X"
ip -n "$SW_NS" link set dev "$X" netns "$H2"
ip -n "$H2" link set dev "$X" up
wait_forwarding "$X"
settle_fdb
pkt_ifs "$H0:$T0" "$H1:$T1" "$H2:$X"
stats_save
xfer 0 "$(frame $BC $A 1)" 1 2
xfer 2 "$(frame $BC $C 2)" 0 1
xfer 1 "$(frame $A $B 3)" 0
xfer 0 "$(frame $C $A 4)" 2
xfer 2 "$(frame $B $C 5)" 1
assert_delta "$T0" rx_packets 2
assert_delta "$T1" rx_packets 1
assert_delta "$T0" tx_packets 2
ok "afxdp and tap ports flood and learn; no frame is read back"

# --- TCP ---------------------------------------------------------------------

# An XDP frame carries no offload state: a checksum the sending host left
# to the device (a veth's default) would arrive incomplete.  The hosts
# behind the afxdp ports compute their own (hosts_setup turned tx
# checksumming off there, as Open vSwitch's AF_XDP guide asks of veth
# peers); the tap's partial checksums are completed by the switch (it
# knows them: the virtio-net header).
assert_eq "$T0 tx checksumming in $H0" off \
	"$(ip netns exec "$H0" ethtool -k "$T0" | awk '/^tx-checksumming:/ {print $2}')"
ip -n "$H0" addr add 198.18.6.1/24 dev "$T0"
ip -n "$H1" addr add 198.18.6.2/24 dev "$T1"
ip -n "$H2" addr add 198.18.6.3/24 dev "$X"
# tcp FROM_NS TO_NS TO_ADDR: 16 MiB through, whole (lib.sh tcp_xfer).
tcp() { tcp_xfer "$1" "$2" "$3" $((16 << 20)); }
stats_save
tcp "$H0" "$H1" 198.18.6.2
tcp "$H2" "$H0" 198.18.6.1
tcp "$H1" "$H2" 198.18.6.3
for h in "$H0" "$H1" "$H2"; do
	assert_eq "$h TcpInCsumErrors" 0 "$(csum_errors "$h")"
done
# The tap's super-frames were cut up for the afxdp port.
[ "$(stat_delta "$T0" tx_sw_gso)" -gt 0 ] ||
	fail "no super-frame was cut up for $T0"
ok "TCP afxdp->afxdp, tap->afxdp, afxdp->tap: whole, checksums right, super-frames cut for afxdp"

# --- errors --------------------------------------------------------------------

J=${TS_ID}j
ip -n "$SW_NS" link add "$J" mtu 9000 type veth peer name "$J" netns "$H2"
out=$(ctl_may_fail port add "$J" type afxdp 2>&1) && rc=0 || rc=$?
check_eq "a 9000-byte MTU device" \
	"1 Error: argument \"$J\" is wrong: its MTU is more than an AF_XDP frame takes (3818 at most; no multi-buffer yet): use type afpacket" \
	"$rc $out"
assert_json "$J untouched" "$(sw_link "$J")" \
	'.[0] | (has("xdp") | not) and .promiscuity == 0 and (.flags | index("UP") | not)'
ok "a device whose MTU an AF_XDP frame cannot hold is refused, untouched"

# --- port del and exit -------------------------------------------------------------

ctl port del "$T1"
assert_json "$T1 after port del: no program, not promiscuous, down again" \
	"$(sw_link "$T1")" \
	'.[0] | (has("xdp") | not) and .promiscuity == 0 and (.flags | index("UP") | not)'
ctl port add "$T1" type afxdp
assert_json "$T1 attached again" "$(sw_link "$T1")" '.[0] | has("xdp")'
daemon_stop
assert_eq "tapswitch exit status" 0 "$TS_DAEMON_STATUS"
for t in "$T0" "$T1"; do
	assert_json "$t after exit: no program, not promiscuous, down" \
		"$(sw_link "$t")" \
		'.[0] | (has("xdp") | not) and .promiscuity == 0 and (.flags | index("UP") | not)'
done
ok "port del and exit take the program off and leave each device as it was"
ts_done
