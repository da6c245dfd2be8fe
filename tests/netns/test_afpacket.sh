#!/bin/bash
#
# test_afpacket.sh - ports on existing network devices (the afpacket
# kind): attached, not created; the kind chosen by the device; the device
# left as it was (promiscuity, up/down, not deleted) on port del and on
# exit; link down/up and deletion followed; the device's MTU respected;
# TCP crossing with its offloads intact (super-frames in, a hashed
# transfer); a mixed switch of a tap and veths.  The forwarding rules
# themselves (learning, flooding, VLANs, trace, capture) are the tap
# suites run again on this kind: test_kinds.sh.
#
#      h0            h1            h2            h3         host namespaces
#     tsXt0         tsXt1         tsXt2         tsXx        veth peers; tsXx
#       |             |             |             |         a tap, moved in
#     tsXt0         tsXt1         tsXt2           |         veths in sw
#       +------------ tapswitch (in sw) ----------+
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

BC=ff:ff:ff:ff:ff:ff
A=02:00:00:00:0a:0a B=02:00:00:00:0a:0b C=02:00:00:00:0a:0c
D=02:00:00:00:0a:0d

TS_PORT_KIND=afpacket hosts_setup 2
T0=${TAPS[0]} T1=${TAPS[1]} H0=${HOSTS[0]} H1=${HOSTS[1]}
H2=$TS_ID-h2 H3=$TS_ID-h3 T2=${TS_ID}t2 X=${TS_ID}x
ns_add "$H2" "$H3"

# sw_link DEV: `ip -d -j link show` of DEV in the switch's namespace.
sw_link() { ip -n "$SW_NS" -d -j link show dev "$1"; }

for t in "$T0" "$T1"; do
	assert_eq "$t kind" afpacket "$(port_field "$t" kind)"
	assert_eq "$t io" packet_ring "$(port_field "$t" io)"
	assert_json "$t: promiscuous and up while attached" "$(sw_link "$t")" \
		'.[0] | .promiscuity == 1 and (.flags | index("UP"))'
done
ok "--port IFNAME,type=afpacket attaches veths, up and promiscuous"

# --- the kind chosen by the device; errors --------------------------------

veth_add "$T2" "$H2"
assert_json "$T2 is down before" "$(sw_link "$T2")" \
	'.[0] | (.flags | index("UP") | not) and .promiscuity == 0'
ctl port add "$T2"
assert_eq "$T2: no type given, a veth: kind" afpacket \
	"$(port_field "$T2" kind)"
wait_forwarding "$T2"
out=$(ctl_may_fail port add "${TS_ID}nx" type afpacket 2>&1) && rc=0 || rc=$?
check_eq "port add of a device that does not exist, type afpacket" \
	"1 Error: argument \"${TS_ID}nx\" is wrong: no such device (this kind attaches, it does not create)" \
	"$rc $out"
assert_eq "nothing made by the failed add" absent \
	"$(port_field "${TS_ID}nx" kind)"
ip -n "$SW_NS" link show dev "${TS_ID}nx" >/dev/null 2>&1 &&
	fail "a device ${TS_ID}nx appeared"
out=$(ctl_may_fail port add "$T2" type tap 2>&1) && rc=0 || rc=$?
check_eq "port add of a port again" \
	"1 Error: argument \"$T2\" is wrong: already a port" "$rc $out"
out=$(ctl_may_fail port add "${TS_ID}q" type vde 2>&1) && rc=0 || rc=$?
check_eq "port add with an unknown type" \
	"1 Error: argument \"vde\" is wrong: type is tap, afpacket or afxdp" \
	"$rc $out"
# A name no device has, without a type: a tap, created here.
ctl port add "$X"
assert_eq "$X: no type, no such device: kind" tap "$(port_field "$X" kind)"
assert_json "$X is a tap in the switch's namespace" "$(sw_link "$X")" \
	'.[0].linkinfo.info_kind == "tun"'
ip -n "$SW_NS" link set dev "$X" netns "$H3"
ip -n "$H3" link set dev "$X" up
wait_forwarding "$X"
ok "type chosen by the device: afpacket for a veth, tap for a new name; errors clear"

# --- forwarding through veths and a tap: no frame read back -----------------

settle_fdb
pkt_ifs "$H0:$T0" "$H1:$T1" "$H2:$T2" "$H3:$X"
stats_save
xfer 0 "$(frame $BC $A 1)" 1 2 3
xfer 3 "$(frame $BC $D 2)" 0 1 2
xfer 1 "$(frame $A $B 3)" 0
xfer 0 "$(frame $D $A 4)" 3
xfer 3 "$(frame $B $D 5)" 1
# Each port read exactly what its host sent: its own transmissions were
# never read back (PACKET_IGNORE_OUTGOING).
assert_delta "$T0" rx_packets 2
assert_delta "$T1" rx_packets 1
assert_delta "$T2" rx_packets 0
assert_delta "$X" rx_packets 2
assert_delta "$T0" tx_packets 2
assert_eq "fdb" "$(sorted "$A:$T0" "$B:$T1" "$D:$X")" \
	"$(for m in $A $B $D; do printf '%s:%s ' "$m" "$(fdb_port "$m")"; done |
		xargs -n1 | LC_ALL=C sort | paste -sd ' ' -)"
ok "a veth and tap switch floods and learns; no frame is read back"

# --- MTU --------------------------------------------------------------------

ip -n "$SW_NS" link set dev "$T1" mtu 1000
for ((i = 0; i < 50; i++)); do
	[ "$(port_field "$T1" mtu)" = 1000 ] && break
	sleep 0.1
done
assert_eq "$T1 mtu follows the device" 1000 "$(port_field "$T1" mtu)"
stats_save
xfer 0 "$(frame $B $A 10 1014)" 1
xfer 0 "$(frame $B $A 11 1200)"
assert_delta "$T1" tx_drop_mtu 1
assert_delta "$T1" tx_packets 1
ip -n "$SW_NS" link set dev "$T1" mtu 1500
ok "a frame over the device's MTU is not sent, and counted"

# --- TCP, offloads intact ----------------------------------------------------

ip -n "$H0" addr add 198.18.5.1/24 dev "$T0"
ip -n "$H1" addr add 198.18.5.2/24 dev "$T1"
ip -n "$H3" addr add 198.18.5.4/24 dev "$X"
# tcp FROM_NS TO_NS TO_ADDR: 32 MiB through, whole (lib.sh tcp_xfer).
tcp() { tcp_xfer "$1" "$2" "$3" $((32 << 20)); }

stats_save
tcp "$H0" "$H1" 198.18.5.2
rx_b=$(stat_delta "$T0" rx_bytes) rx_p=$(stat_delta "$T0" rx_packets)
[ "$rx_p" -gt 0 ] || fail "$T0 received nothing"
# Super-frames crossed whole: far more than an MTU a frame on average.
[ $((rx_b / rx_p)) -gt 4000 ] ||
	fail "$T0: $((rx_b / rx_p)) bytes a frame: the super-frames were cut up"
assert_delta "$T1" tx_sw_gso 0
assert_delta "$T0" drop_bad_offload 0
tcp "$H1" "$H3" 198.18.5.4
tcp "$H3" "$H0" 198.18.5.1
for h in "$H0" "$H1" "$H3"; do
	assert_eq "$h TcpInCsumErrors" 0 "$(csum_errors "$h")"
done
ok "TCP veth->veth, veth->tap, tap->veth: whole and unchanged, super-frames through ($((rx_b / rx_p)) bytes a frame)"

# --- link down/up, deletion ----------------------------------------------------

xfer 1 "$(frame $BC $B 20)" 0 2 3
assert_eq "$B learned on $T1" "$T1" "$(fdb_port $B)"
ip -n "$H1" link set dev "$T1" down
wait_port_state "$T1" disabled
assert_eq "$T1 link" down "$(port_field "$T1" link)"
assert_eq "$B flushed with the link" "" "$(fdb_port $B)"
ip -n "$H1" link set dev "$T1" up
wait_forwarding "$T1"
xfer 1 "$(frame $BC $B 21)" 0 2 3
ok "link down: port disabled and its entries flushed; up: forwarding again"

ip -n "$H2" link del dev "$T2"
for ((i = 0; i < 50; i++)); do
	[ "$(port_field "$T2" kind)" = absent ] && break
	sleep 0.1
done
assert_eq "$T2 after its device was deleted" absent "$(port_field "$T2" kind)"
pkt_ifs "$H0:$T0" "$H1:$T1" "$H3:$X"
xfer 0 "$(frame $BC $A 22)" 1 2
ok "a deleted device: its port removed, the rest forwards"

# --- port del and exit leave the device as it was -------------------------------

veth_add "$T2" "$H2"
ip -n "$SW_NS" link set dev "$T2" up
ctl port add "$T2" type afpacket
assert_json "$T2 promiscuous while attached" "$(sw_link "$T2")" \
	'.[0].promiscuity == 1'
ctl port del "$T2"
assert_json "$T2 after port del: still there, up as it was, not promiscuous" \
	"$(sw_link "$T2")" '.[0] | .promiscuity == 0 and (.flags | index("UP"))'
# T0 was down before the daemon brought it up.
daemon_stop
assert_eq "tapswitch exit status" 0 "$TS_DAEMON_STATUS"
for t in "$T0" "$T1"; do
	assert_json "$t after exit: still there, down again, not promiscuous" \
		"$(sw_link "$t")" \
		'.[0] | .promiscuity == 0 and (.flags | index("UP") | not)'
done
ok "port del and exit leave each device as it was"
ts_done
