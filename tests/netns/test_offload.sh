#!/bin/bash
#
# test_offload.sh - TCP through tapswitch with checksum and segmentation
# offloads: super-frames cross the switch whole, with and without a VLAN
# tag pushed or popped on the way, and a port with offloads off gets them
# cut up in software (counted), with valid checksums.
#
#   h0 198.18.2.1    h1 198.18.2.2    h2: "the wire", a plain Linux bridge
#     tsXt0            tsXt1            tsXt2 ------ br0 ------ tsXu0      h3 198.18.2.3
#       |                |                |    (tags pass          |           tsXu1
#       +-- tapswitch A -+----------------+     untouched)         +-- tapswitch B -+
#                                       trunk, VID 10              trunk, VID 10    access, VID 10
#
# Switch A runs on io_uring, B with a system call a frame.
# This kernel has no 802.1Q (no VLAN devices, no bridge VLAN filtering,
# no tc vlan action), so the far end of the trunk is a second tapswitch:
# a tag A pushes is popped by B, and a kernel bridge between them checks
# the tagged super-frames on the way.
#
# Phase 1: filtering off, h0 -> h1: frames larger than the MTU cross.
# Phase 2: tsXt1 offload off: h0 -> h1 arrives in MTU-sized frames cut by
#          tapswitch (tx_sw_gso), and h1 -> h0 leaves h1 unsegmented.
# Phase 3: filtering on in A: tsXt0 an access port of VLAN 10, tsXt2 a
#          trunk; B the same on its side: h0 <-> h3 both ways, the tag
#          pushed on super-frames by one switch and popped by the other.
# Every transfer is a bounded tcpxfer run (a set number of bytes, under
# a time limit, hashed at both ends), and every receiver's
# TcpInCsumErrors must stay 0.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v nstat >/dev/null 2>&1 || skip "no nstat"
trap cleanup EXIT

BYTES=${TS_TCP_BYTES:-$((32 << 20))}

# The second switch, stopped by PID before the common cleanup.
B_PID=
B_SOCK=$TS_TMP/b.sock
cleanup_b()
{
	local rc=$?
	set +e
	if [ -n "$B_PID" ]; then
		kill -TERM "$B_PID" 2>/dev/null
		wait "$B_PID" 2>/dev/null
	fi
	(exit "$rc")
	cleanup
}
trap cleanup_b EXIT
ctlb() { ctl_at "$B_SOCK" "$@"; }

hosts_setup 3
W=${HOSTS[2]}
H3=$TS_ID-h3
ns_add "$H3"
ip -n "${HOSTS[0]}" addr add 198.18.2.1/24 dev "${TAPS[0]}"
ip -n "${HOSTS[1]}" addr add 198.18.2.2/24 dev "${TAPS[1]}"

U0=${TS_ID}u0 U1=${TS_ID}u1
# B reads and writes with a system call a frame; A with io_uring.
"$TAPSWITCH" --ctl "$B_SOCK" --vlan-filtering 1 --io syscall \
	--port "$U0" --port "$U1" \
	>>"$TS_TMP/b.log" 2>&1 &
B_PID=$!
for ((i = 0; i < 50; i++)); do
	# (Until it answers: this may fail, so not ctlb.)
	"$TAPSWITCHCTL" --ctl "$B_SOCK" show >/dev/null 2>&1 && break
	pid_alive "$B_PID" || fail "tapswitch B exited: $(cat "$TS_TMP/b.log")"
	sleep 0.1
done
ctlb vlan add dev "$U0" vid 10
ctlb vlan del dev "$U0" vid 1
ctlb vlan add dev "$U1" vid 10 pvid untagged
ctlb vlan del dev "$U1" vid 1
tap_to_ns "$U0" "$W"
tap_to_ns "$U1" "$H3"
ip -n "$H3" addr add 198.18.2.3/24 dev "$U1"

# The wire: a bridge without VLAN filtering carries tags untouched.
ip -n "$W" link add br0 type bridge stp_state 0
ip netns exec "$W" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
	net.bridge.bridge-nf-call-ip6tables=0 2>/dev/null || true
ip -n "$W" link set "${TAPS[2]}" master br0
ip -n "$W" link set "$U0" master br0
ip -n "$W" link set br0 up

# tcp FROM_NS TO_NS TO_ADDR: $BYTES through, whole (lib.sh tcp_xfer).
tcp() { tcp_xfer "$1" "$2" "$3" "$BYTES"; }

# avg TAP rx|tx: bytes per frame since stats_save.
avg()
{
	local b p
	b=$(stat_delta "$1" "${2}_bytes")
	p=$(stat_delta "$1" "${2}_packets")
	[ "$p" -gt 0 ] || fail "$1: no $2 frames"
	echo $((b / p))
}

ping_ok()
{
	ip netns exec "$1" timeout 10 ping -n -q -c 2 -i 0.2 -w 5 "$2" \
		>/dev/null 2>&1 || fail "$1 cannot ping $2"
}

for t in "${TAPS[@]}"; do
	assert_eq "$t offload" true "$(port_field "$t" offload)"
	assert_eq "$t io" uring "$(port_field "$t" io)"
done
assert_json "B's ports: syscall I/O, offloads on" "$(ctlb -j port show)" \
	'all(.[]; .io == "syscall" and .offload == true)'


# ---------------------------------------------------------------- phase 1
ping_ok "${HOSTS[0]}" 198.18.2.2
stats_save
tcp "${HOSTS[0]}" "${HOSTS[1]}" 198.18.2.2
a=$(avg "${TAPS[0]}" rx)
[ "$a" -gt 3000 ] || fail "h0 -> h1: ${TAPS[0]} received $a bytes a frame: no super-frames"
assert_eq "${TAPS[1]} tx_sw_gso" 0 "$(stat_delta "${TAPS[1]}" tx_sw_gso)"
assert_eq "h1 TcpInCsumErrors" 0 "$(csum_errors "${HOSTS[1]}")"
ok "TCP crosses in super-frames ($a bytes a frame on average)"

# ---------------------------------------------------------------- phase 2
ctl port set "${TAPS[1]}" offload off
assert_eq "${TAPS[1]} offload" false "$(port_field "${TAPS[1]}" offload)"
stats_save
tcp "${HOSTS[0]}" "${HOSTS[1]}" 198.18.2.2
a=$(avg "${TAPS[1]}" tx)
[ "$a" -le 1514 ] || fail "${TAPS[1]} (offload off) sent $a bytes a frame"
n=$(stat_delta "${TAPS[1]}" tx_sw_gso)
[ "$n" -gt 0 ] || fail "${TAPS[1]}: no tx_sw_gso"
assert_eq "h1 TcpInCsumErrors" 0 "$(csum_errors "${HOSTS[1]}")"
ok "offload off: $n super-frames cut up for ${TAPS[1]}, $a bytes a frame"
stats_save
tcp "${HOSTS[1]}" "${HOSTS[0]}" 198.18.2.1
a=$(avg "${TAPS[1]}" rx)
[ "$a" -le 1514 ] || fail "h1's tap has offloads off, yet sent $a bytes a frame"
assert_eq "h0 TcpInCsumErrors" 0 "$(csum_errors "${HOSTS[0]}")"
ok "offload off: the host behind ${TAPS[1]} segments itself ($a bytes a frame)"
ctl port set "${TAPS[1]}" offload on

# ---------------------------------------------------------------- phase 3
ctl set vlan_filtering 1
ctl vlan add dev "${TAPS[0]}" vid 10 pvid untagged
ctl vlan del dev "${TAPS[0]}" vid 1
ctl vlan add dev "${TAPS[2]}" vid 10
ctl vlan del dev "${TAPS[2]}" vid 1
ping_ok "${HOSTS[0]}" 198.18.2.3
stats_save
tcp "${HOSTS[0]}" "$H3" 198.18.2.3
a=$(avg "${TAPS[2]}" tx)
[ "$a" -gt 3000 ] || fail "h0 -> h3: ${TAPS[2]} sent $a bytes a frame: no tagged super-frames"
assert_eq "h3 TcpInCsumErrors" 0 "$(csum_errors "$H3")"
ok "a tag pushed on super-frames to the trunk ($a bytes a frame)"
stats_save
tcp "$H3" "${HOSTS[0]}" 198.18.2.1
a=$(avg "${TAPS[2]}" rx)
assert_eq "h0 TcpInCsumErrors" 0 "$(csum_errors "${HOSTS[0]}")"
assert_eq "${TAPS[0]} tx_errors" 0 "$(stat_delta "${TAPS[0]}" tx_errors)"
ok "tagged frames from the trunk popped on the way to h0 ($a bytes a frame)"
bs=$(ctlb -j -s port show dev "$U0")
assert_json "B: tagged super-frames in from the trunk" "$bs" \
	'.[0].stats.rx_bytes / .[0].stats.rx_packets > 3000'
assert_json "B: nothing cut up, nothing lost" "$bs" \
	'.[0].stats.tx_sw_gso == 0 and .[0].stats.tx_errors == 0 and
	 .[0].stats.drop_bad_offload == 0'

# A port with offloads off on the VLAN path too: segments, each tagged.
ctl port set "${TAPS[2]}" offload off
stats_save
tcp "${HOSTS[0]}" "$H3" 198.18.2.3
a=$(avg "${TAPS[2]}" tx)
[ "$a" -le 1518 ] || fail "${TAPS[2]} (offload off) sent $a bytes a frame"
[ "$(stat_delta "${TAPS[2]}" tx_sw_gso)" -gt 0 ] || fail "${TAPS[2]}: no tx_sw_gso"
assert_eq "h3 TcpInCsumErrors" 0 "$(csum_errors "$H3")"
ok "offload off on the trunk: tagged segments, valid checksums"

daemon_alive || fail "tapswitch died"
ts_done
