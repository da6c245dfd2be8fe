#!/bin/bash
#
# test_ping.sh - three hosts ping each other through tapswitch: ARP
# broadcasts flood, replies are unicast to learned MACs, and the table ends
# up holding each host's MAC on its own port.
#
#     h0 198.18.0.1/24    h1 198.18.0.2/24    h2 198.18.0.3/24
#         tsXt0               tsXt1               tsXt2        (moved in)
#           |                   |                   |
#           +------------- tapswitch ---------------+          (root ns)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v ping >/dev/null 2>&1 || skip "no ping"
trap cleanup EXIT

hosts_setup 3
for i in 0 1 2; do
	ip -n "${HOSTS[i]}" addr add "198.18.0.$((i + 1))/24" dev "${TAPS[i]}"
done

for i in 0 1 2; do
	for j in 0 1 2; do
		[ "$i" != "$j" ] || continue
		# At most 5 echo requests, 0.2 s apart, 5 s in all.
		ip netns exec "${HOSTS[i]}" timeout 10 ping -n -q -c 5 -i 0.2 \
			-w 5 "198.18.0.$((j + 1))" >"$TS_TMP/ping" 2>&1 ||
			fail "h$i cannot ping 198.18.0.$((j + 1)):$(printf '\n'; cat "$TS_TMP/ping")"
	done
done
ok "every host pings every other one"

for i in 0 1 2; do
	mac=$(ip -n "${HOSTS[i]}" -j link show dev "${TAPS[i]}" |
		jq -r '.[0].address')
	assert_eq "fdb: h$i's MAC $mac" "${TAPS[i]}" "$(fdb_port "$mac")"
done
ok "each host's MAC learned on its own port"

for i in 0 1 2; do
	assert_ge "${TAPS[i]} rx_packets" 5 "$(port_stat "${TAPS[i]}" rx_packets)"
	assert_ge "${TAPS[i]} tx_packets" 5 "$(port_stat "${TAPS[i]}" tx_packets)"
done
daemon_alive || fail "tapswitch died"
ts_done
