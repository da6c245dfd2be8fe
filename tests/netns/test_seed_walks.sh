#!/bin/bash
#
# test_seed_walks.sh - the ARP walks of the seed document
# seeds/004_5584f62406c3fc4a.txt ("网络设置举例说明", figures 4-8), rebuilt
# with tapswitch as the central bridge0.  Each walk is a function named
# after its figure and asserts exactly who receives what, tagged how.
#
# The seed's lab: a central bridge0 with four devices attached - two veth
# pairs, whose far ends are 802.1Q VLAN parents with children vlan100 and
# vlan200 (a parent and its children share one MAC); tap0, read by a
# program; eth0, the physical NIC to the external network, which has a
# VLAN 200 child of its own - and bridge0's own stack, which has an IP
# address (a hidden port of the bridge).  Two VLANs exist: 100 and 200.
#
# This kernel has no 8021q module, so there are no VLAN devices: a VLAN
# child is modelled as an access port of its VLAN (PVID, egress untagged;
# reorder_hdr off where the seed sets reorder_hdr=0), and the sending veth
# end as a trunk on which the children's frames arrive tagged.  bridge0
# filters VLANs instead of its VLAN devices, so a port gets a VLAN's frames
# only as a member of it: tap0 and eth0 are members of 100 and 200 tagged,
# so that they see what the seed says they see.
#
#   ns X: veth pair 1's     ns Y: veth pair 2's far     ns T: the     ns E: the    ns B: bridge0's
#   far end, the parent     end's children (host A      program that  external     own stack
#   whose children          is Y's vlan100 child)       reads tap0    network      198.18.1.1/24
#   vlan100, vlan200 send   vlan100       vlan200
#        |                     |             |              |            |              |
#      vetha                 b100          b200           tap0         eth0            br0
#   1: PVID, untagged     100: PVID,    200: PVID,     1: PVID,     1: PVID,        1: PVID,
#   100, 200: tagged      untagged      untagged,      untagged     untagged        untagged
#                                       reorder_hdr    100, 200:    100, 200:
#                                       off            tagged       tagged
#        |                     |             |              |            |              |
#        +---------------------+-------------+-- tapswitch --+------------+--------------+
#                     "bridge0", vlan_filtering 1 (root namespace; holds the tap fds)
#
# Port names are $TS_ID + the name above; pktio interface i is port i in
# the order above.  ARP requests are 42-byte frames (46 tagged) as the
# kernel sends them; the VLAN subnets are 198.18.100.0/24 and
# 198.18.200.0/24 (the seed's private /24s, moved into RFC 2544
# space).
#
# Direction: in the seed a program holds tap0's file descriptor and the
# bridge sits on the kernel side; here tapswitch holds every tap's fd, and
# tap0's namespace is the program's side.  So what the seed's program
# read()s from tap0 is what pktio receives on tap0 in T, and what it
# write()s into tap0 is what pktio sends there (figure 8).
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

NX=$TS_ID-x NY=$TS_ID-y NT=$TS_ID-t NE=$TS_ID-e NB=$TS_ID-b
VETHA=${TS_ID}vetha B100=${TS_ID}b100 B200=${TS_ID}b200
TAP0=${TS_ID}tap0 ETH0=${TS_ID}eth0 BR0=${TS_ID}br0
NAMES=(vetha b100 b200 tap0 eth0 br0)
PORTS=("$VETHA" "$B100" "$B200" "$TAP0" "$ETH0" "$BR0")
PNS=("$NX" "$NY" "$NY" "$NT" "$NE" "$NB")
P_VETHA=0 P_B100=1 P_B200=2 P_TAP0=3 P_ETH0=4 P_BR0=5

MX=02:5e:ed:00:00:0a	# X: the parent and its children vlan100, vlan200
MY=02:5e:ed:00:00:0b	# Y: its children; host A is its vlan100 child
MT=02:5e:ed:00:00:7a	# the program on tap0
ME=02:5e:ed:00:00:e0	# a host of the external network, on VLAN 200
MB=02:5e:ed:00:00:b0	# bridge0 itself
BC=ff:ff:ff:ff:ff:ff

# ------------------------------------------------------------ helpers

# ip_hex A.B.C.D -> 8 hex digits
ip_hex()
{
	local IFS=.
	# shellcheck disable=SC2086 # split on the dots
	printf '%02x%02x%02x%02x' $1
}

# arp OP DST SRC SPA TPA [THA]: an ARP frame (42 bytes), OP 1 request,
# 2 reply; a request's target MAC is all-zero, as Linux sends it.
arp()
{
	printf '%s%s0806000108000604000%s%s%s%s%s' "$(mac_hex "$2")" \
		"$(mac_hex "$3")" "$1" "$(mac_hex "$3")" "$(ip_hex "$4")" \
		"$(mac_hex "${6:-00:00:00:00:00:00}")" "$(ip_hex "$5")"
}

# tg HEX VID [PCP] [DEI] [TPID]: HEX with a tag put after the MACs.
tg()
{
	printf '%s%s%04x%s' "${1:0:24}" "${5:-8100}" \
		$((${3:-0} << 13 | ${4:-0} << 12 | $2)) "${1:24}"
}

# describe HEX: a frame in words, for failure messages.
describe()
{
	local h=$1 off=24 out tci
	out="len $((${#h} / 2)) dst ${h:0:12} src ${h:12:12}"
	while [ $((off + 8)) -le ${#h} ] &&
		{ [ "${h:off:4}" = 8100 ] || [ "${h:off:4}" = 88a8 ]; }; do
		tci=$((16#${h:off+4:4}))
		out+=" tag ${h:off:4} vid $((tci & 4095)) pcp $((tci >> 13))"
		off=$((off + 8))
	done
	printf '%s type %s' "$out" "${h:off:4}"
}

show_rx()
{
	local line n=0
	while read -r line; do
		case $line in
		rx\ *)
			# shellcheck disable=SC2086 # split into words
			set -- $line
			printf '    %-6s %s\n' "${NAMES[$2]}" "$(describe "$3")"
			n=$((n + 1))
			;;
		esac
	done <<<"$1"
	[ "$n" -gt 0 ] || printf '    nothing\n'
}

# expect_lines [J[=HEX]]...: what pktio prints for one collection in
# which exactly the interfaces J got HEX (default $XF_HEX) once each.
expect_lines()
{
	local arg j h lines= out
	for arg in "$@"; do
		j=${arg%%=*}
		h=$XF_HEX
		case $arg in *=*) h=${arg#*=} ;; esac
		lines+="rx $j $h"$'\n'
	done
	out=$(printf '%s' "$lines" | sort -s -n -k2,2)
	[ -z "$out" ] || out+=$'\n'
	printf '%s.' "$out"
}

# judge WHAT SENT EXPECTED GOT: report a mismatch and go on.
judge()
{
	[ "$3" = "$4" ] && return 0
	TS_FAILED=1
	{
		printf 'FAIL: %s\n  sent: %s\n  expected:\n' "$1" "$2"
		show_rx "$3"
		printf '  got:\n'
		show_rx "$4"
	} >&2
	return 0
}

# xf WHAT IN HEX [J[=HEX]]...: send HEX on pktio interface IN (a frame
# written into that port); exactly the interfaces J receive a frame, once
# each: the one after "=", or HEX itself.  Nothing else anywhere.
xf()
{
	local what=$1 in=$2 expect got
	XF_HEX=$3
	shift 3
	expect=$(expect_lines "$@")
	got=$(printf 'send %s %s\n' "$in" "$XF_HEX" | pkt_run)
	judge "$what" "on ${NAMES[in]}: $(describe "$XF_HEX")" "$expect" "$got"
}

# tx_of PORT: tx_packets of PORT from -j -s port show.
tx_of() { port_stat "$1" tx_packets; }

# ------------------------------------------------------------ set-up

ns_add "$NX" "$NY" "$NT" "$NE" "$NB"
args=()
for p in "${PORTS[@]}"; do
	args+=(--port "$p")
done
daemon_start --vlan-filtering 1 "${args[@]}"
PKT_IFS=()
for i in "${!PORTS[@]}"; do
	tap_to_ns "${PORTS[i]}" "${PNS[i]}"
	PKT_IFS+=("${PNS[i]}:${PORTS[i]}")
done
ip -n "$NB" link set dev "$BR0" address $MB
for p in "${PORTS[@]}"; do
	wait_forwarding "$p"
done

# The VLAN children: access ports.
ctl vlan add dev "$B100" vid 100 pvid untagged
ctl vlan add dev "$B200" vid 200 pvid untagged
ctl port set "$B200" reorder_hdr off	# the seed's reorder_hdr = 0
ctl vlan del dev "$B100" vid 1
ctl vlan del dev "$B200" vid 1
# veth pair 1: the parent itself untagged (VLAN 1), its children tagged.
ctl vlan add dev "$VETHA" vid 100
ctl vlan add dev "$VETHA" vid 200
# tap0 and eth0: VLAN 1 untagged, both VLANs tagged.  br0: VLAN 1 only.
for p in "$TAP0" "$ETH0"; do
	ctl vlan add dev "$p" vid 100
	ctl vlan add dev "$p" vid 200
done
settle_fdb

check_json "membership as drawn" "$(ctlj vlan show)" "
	(map({key: .ifname, value: .vlans}) | from_entries) as \$m |
	\$m[\"$VETHA\"] == [{vlan: 1, flags: [\"PVID\", \"Egress Untagged\"]},
			 {vlan: 100}, {vlan: 200}] and
	\$m[\"$B100\"] == [{vlan: 100, flags: [\"PVID\", \"Egress Untagged\"]}] and
	\$m[\"$B200\"] == [{vlan: 200, flags: [\"PVID\", \"Egress Untagged\"]}] and
	\$m[\"$TAP0\"] == \$m[\"$VETHA\"] and \$m[\"$ETH0\"] == \$m[\"$VETHA\"] and
	\$m[\"$BR0\"] == [{vlan: 1, flags: [\"PVID\", \"Egress Untagged\"]}]"
check_eq "b200 reorder_hdr" false "$(port_field "$B200" reorder_hdr)"

# ------------------------------------------------------------ the walks

# Figure 4, "ARP from vlan100 child device": the user on X pings
# 198.18.100.3; X's vlan100 child sends an ARP request, tagged 100 by its
# parent (step 3), into bridge0 through veth pair 1 (steps 4-5).  bridge0
# floods it (step 6): tap0's program reads it tagged, eth0 sends it out
# tagged (eth0's own vlan200 child does not get it: it is being sent, not
# received); veth pair 2 carries it to Y, whose vlan100 child gets it with
# the tag removed - a plain Ethernet ARP again (step 8) - and whose
# vlan200 child does not (another ID).  Nothing goes back to vetha, and
# bridge0's own stack (VLAN 1) does not get it.
fig4()
{
	local req
	req=$(tg "$(arp 1 $BC $MX 198.18.100.2 198.18.100.3)" 100)
	xf "fig4: ARP from X's vlan100 child" $P_VETHA "$req" \
		"$P_B100=$(arp 1 $BC $MX 198.18.100.2 198.18.100.3)" \
		$P_TAP0 $P_ETH0
	check_eq "fig4: X's MAC learned in VLAN 100 on vetha" \
		"$VETHA 100" "$(ctlj fdb show | jq -r --arg m $MX \
			'.[] | select(.mac == $m) | "\(.ifname) \(.vlan)"')"

	# Host A (198.18.100.3, Y's vlan100 child) answers: a known unicast
	# back to X, tagged 100 on the veth, and to nobody else.
	xf "fig4: A's ARP reply goes to X only, tagged 100" $P_B100 \
		"$(arp 2 $MX $MY 198.18.100.3 198.18.100.2 $MX)" \
		"$P_VETHA=$(tg "$(arp 2 $MX $MY 198.18.100.3 198.18.100.2 $MX)" 100)"

	# With eth0 carrying only VLAN 200 (and 1), the external network no
	# longer gets VLAN 100: the filtering bridge0 differs from the seed's
	# plain one exactly where the membership says so.
	ctl vlan del dev "$ETH0" vid 100
	xf "fig4, eth0 not in VLAN 100: tap0 and A only" $P_VETHA "$req" \
		"$P_B100=$(arp 1 $BC $MX 198.18.100.2 198.18.100.3)" $P_TAP0
	ctl vlan add dev "$ETH0" vid 100
	ok "fig4: ARP from the vlan100 child"
}

# Figure 5, "ARP from vlan200 child device": as figure 4 with VLAN 200,
# but Y's vlan200 child has reorder_hdr = 0: it gets the ARP request with
# the VLAN 200 tag still on.  Y's vlan100 child gets nothing.
fig5a()
{
	local req
	req=$(tg "$(arp 1 $BC $MX 198.18.200.2 198.18.200.3)" 200)
	xf "fig5a: ARP from X's vlan200 child" $P_VETHA "$req" \
		$P_B200 $P_TAP0 $P_ETH0
	# The same with reorder_hdr on: the child gets it untagged.
	ctl port set "$B200" reorder_hdr on
	xf "fig5a, reorder_hdr on: b200 untagged" $P_VETHA "$req" \
		"$P_B200=$(arp 1 $BC $MX 198.18.200.2 198.18.200.3)" \
		$P_TAP0 $P_ETH0
	ctl port set "$B200" reorder_hdr off
	ok "fig5a: ARP from the vlan200 child (reorder_hdr off keeps the tag)"
}

# Figure 5 (the second one), "ARP from central bridge": bridge0 has an
# IP; a user program pings an address of its subnet and the kernel sends
# an ARP request from bridge0 itself.  tap0 and the external network get
# it; the VLAN children do not (VLAN ID filtering) - the veth end itself,
# the parent, does, untagged.  A real ARP request from bridge0's stack
# (ns B): one probe only (mcast_solicit 1), so that exactly one comes.
fig5b()
{
	local req expect got
	ip -n "$NB" addr add 198.18.1.1/24 dev "$BR0"
	ip netns exec "$NB" sysctl -qw "net.ipv4.neigh.$BR0.mcast_solicit=1" \
		"net.ipv4.neigh.$BR0.app_solicit=0"
	req=$(arp 1 $BC $MB 198.18.1.1 198.18.1.99)
	XF_HEX=$req
	expect=$(expect_lines $P_VETHA $P_TAP0 $P_ETH0)
	# pktio listens for 2.5 s; the ping starts after its sockets are
	# open and gives up after 1 s (nobody has 198.18.1.99).
	{
		sleep 0.4
		ip netns exec "$NB" timeout 5 ping -n -c 1 -W 1 198.18.1.99 \
			>/dev/null 2>&1 || true
	} &
	got=$(echo "wait 2500" | pkt_run)
	wait $! || true
	judge "fig5b: ARP from bridge0's own stack" "by ping in ns B: $(describe "$req")" \
		"$expect" "$got"
	check_eq "fig5b: bridge0's MAC learned in VLAN 1 on br0" "$BR0 1" \
		"$(ctlj fdb show | jq -r --arg m $MB \
			'.[] | select(.mac == $m) | "\(.ifname) \(.vlan)"')"
	ok "fig5b: ARP from the central bridge"
}

# Figure 6, "ARP from external network": the external network's switch
# port is in VLAN 200, so the request arrives on eth0 tagged 200.  Every
# VLAN 200 child gets it: X's (through veth pair 1, tagged on the veth)
# and Y's, which keeps the tag (reorder_hdr = 0); tap0's program reads it
# tagged.  VLAN 100 and bridge0's stack do not get it.
fig6()
{
	local req
	req=$(tg "$(arp 1 $BC $ME 198.18.200.50 198.18.200.2)" 200)
	xf "fig6: ARP from the external network, VLAN 200" $P_ETH0 "$req" \
		$P_VETHA $P_B200 $P_TAP0
	# The same request untagged is VLAN 1 on eth0: the VLAN 200 children
	# do not get it, the parent, tap0 and bridge0's stack do, untagged.
	xf "fig6, untagged from outside: VLAN 1" $P_ETH0 \
		"$(arp 1 $BC $ME 198.18.1.50 198.18.1.7)" \
		$P_VETHA $P_TAP0 $P_BR0
	ok "fig6: ARP from the external network"
}

# Figure 8, "file operation on TAP device": the program write()s into
# tap0 a unicast frame to host A (Y's vlan100 child) with a VLAN 100
# tag; bridge0 finds A's port and A gets the frame without the tag.  (A
# raw socket on tap0, the seed's other way, sends towards the program,
# not the bridge; tapswitch holds the fd, so there is no such path here.)
fig8()
{
	local to_a
	to_a=$(tg "$(frame $MY $MT 8)" 100)
	# A not learned yet: flooded in VLAN 100, untagged only to A.
	ctl fdb flush >/dev/null
	xf "fig8: to A, tag 100, A unknown: VLAN 100 flood" $P_TAP0 "$to_a" \
		"$P_VETHA" "$P_B100=$(frame $MY $MT 8)" $P_ETH0
	# A speaks (a gratuitous ARP from Y's vlan100 child), is learned in
	# VLAN 100 on b100, and the write reaches A alone, untagged.
	xf "fig8: A's gratuitous ARP" $P_B100 \
		"$(arp 1 $BC $MY 198.18.100.3 198.18.100.3)" \
		"$P_VETHA=$(tg "$(arp 1 $BC $MY 198.18.100.3 198.18.100.3)" 100)" \
		"$P_TAP0=$(tg "$(arp 1 $BC $MY 198.18.100.3 198.18.100.3)" 100)" \
		"$P_ETH0=$(tg "$(arp 1 $BC $MY 198.18.100.3 198.18.100.3)" 100)"
	check_eq "fig8: A learned in VLAN 100 on b100" "$B100 100" \
		"$(ctlj fdb show | jq -r --arg m $MY \
			'.[] | select(.mac == $m) | "\(.ifname) \(.vlan)"')"
	xf "fig8: to A, tag 100, A known: A only, without the tag" $P_TAP0 \
		"$to_a" "$P_B100=$(frame $MY $MT 8)"
	# The same MAC in another VLAN is another address: tagged 200 it is
	# unknown there and floods VLAN 200 (Y's vlan200 child keeps the tag).
	xf "fig8: to A's MAC with tag 200: VLAN 200 flood" $P_TAP0 \
		"$(tg "$(frame $MY $MT 9)" 200)" $P_VETHA $P_B200 $P_ETH0
	# Written untagged it is VLAN 1, where A is not.
	xf "fig8: to A's MAC untagged: VLAN 1 flood, not A" $P_TAP0 \
		"$(frame $MY $MT 10)" $P_VETHA $P_ETH0 $P_BR0
	ok "fig8: a frame written into tap0 with tag 100 reaches A untagged"
}

# Figure 7, "ping from TAP device": in the seed tap0 gets an IP and a
# ping from it sends an ARP request that goes to the program reading
# tap0, never to the bridge - nothing happens.  The frame goes to
# whoever holds the tap's fd; here that is tapswitch, so the same ping
# from tap0's side (ns T) is what figure 8's write() is: it enters the
# bridge, in VLAN 1, and reaches bridge0's stack, which answers.  The
# VLAN children see none of it.  (The figure's right half, eth0's own
# vlan200 child sending straight out of eth0, never touches bridge0 and
# has no counterpart.)  Run last: the two stacks keep talking ARP.
fig7()
{
	local tx100 tx200 rc=0
	tx100=$(tx_of "$B100")
	tx200=$(tx_of "$B200")
	ip -n "$NT" addr add 198.18.1.2/24 dev "$TAP0"
	ip -n "$NT" link set dev "$TAP0" address $MT
	ip netns exec "$NT" timeout 10 ping -n -q -c 2 -i 0.2 -W 2 198.18.1.1 \
		>"$TS_TMP/ping" 2>&1 || rc=$?
	check_eq "fig7: ping from tap0's side to bridge0's stack" 0 "$rc"
	check_eq "fig7: vlan100 child got nothing" "$tx100" "$(tx_of "$B100")"
	check_eq "fig7: vlan200 child got nothing" "$tx200" "$(tx_of "$B200")"
	check_eq "fig7: tap0's side learned in VLAN 1 on tap0" "$TAP0" \
		"$(ctlj fdb show vlan 1 | jq -r --arg m $MT \
			'.[] | select(.mac == $m) | .ifname')"
	check_eq "fig7: bridge0 learned in VLAN 1 on br0" "$BR0" \
		"$(ctlj fdb show vlan 1 | jq -r --arg m $MB \
			'.[] | select(.mac == $m) | .ifname')"
	ok "fig7: ping from tap0's side reaches bridge0 in VLAN 1 only"
}

fig4
fig5a
fig5b
fig6
fig8
fig7

daemon_alive || fail "tapswitch died"
ts_done
