#!/bin/bash
#
# test_forwarding.sh - flooding, known unicast, invalid sources, frames to
# the ingress port, per-port flood flags, the per-port counters.
#
#     h0           h1           h2           h3        host namespaces
#    tsXt0        tsXt1        tsXt2        tsXt3      taps, moved in
#      |            |            |            |
#      +------------+--- tapswitch ---+-------+        (root namespace;
#                                                       holds the tap fds)
#
# pktio interface i is tap i in host i.  Runts (< 14 bytes) are not tested
# here: the kernel refuses to send a frame shorter than an Ethernet header
# on an Ethernet device (dev_validate_header(), EINVAL), so no host can
# ever hand one to the switch through a tap; the unit tests drive them
# through the memory backend.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

hosts_setup 4
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]} T3=${TAPS[3]}

A=02:00:00:00:00:0a	# on h0
B=02:00:00:00:00:0b	# on h1
C=02:00:00:00:00:0c	# on h2
D=02:00:00:00:00:0d	# on h3
E=02:00:00:00:00:0e	# on h0 too
U=02:00:00:00:99:99	# never sends: unknown unicast
BC=ff:ff:ff:ff:ff:ff
MC=01:00:5e:00:00:01
MC2=03:00:00:00:00:01

# --- flooding and learning -------------------------------------------
stats_save
xfer 0 "$(frame $BC $A 1)" 1 2 3
assert_delta "$T0" rx_packets 1
assert_delta "$T0" rx_bytes 60
assert_delta "$T0" flooded 1
for t in "$T1" "$T2" "$T3"; do
	assert_delta "$t" tx_packets 1
	assert_delta "$t" tx_bytes 60
	assert_delta "$t" rx_packets 0
done
assert_delta "$T0" tx_packets 0
assert_eq "fdb: $A after a broadcast from h0" "$T0" "$(fdb_port $A)"
ok "broadcast floods to every other port, counted"

xfer 1 "$(frame $U $B 2)" 0 2 3
assert_eq "fdb: $B after unknown unicast from h1" "$T1" "$(fdb_port $B)"
ok "unknown unicast floods"

stats_save
xfer 1 "$(frame $A $B 3)" 0
xfer 0 "$(frame $B $A 4 1514)" 1
assert_delta "$T1" flooded 0
assert_delta "$T0" flooded 0
assert_delta "$T1" tx_bytes 1514
ok "known unicast goes to one port (60 and 1514 bytes)"

xfer 2 "$(frame $MC $C 5)" 0 1 3
xfer 2 "$(frame $MC2 $C 6)" 0 1 3
xfer 2 "$(frame 01:80:c2:00:00:10 $C 7)" 0 1 3
ok "multicast floods (01:80:c2:00:00:10 is not link-local)"

xfer 3 "$(frame $BC $D 8 14)" 0 1 2
xfer 0 "$(frame $D $A 9 14)" 3
ok "a 14-byte frame (header only) is a frame"

# VLAN filtering is off: tags are carried untouched, learning ignores them.
tagged=$(mac_hex $BC)$(mac_hex $A)8100600a88b574730000000a
xfer 0 "$tagged" 1 2 3
tagged=$(mac_hex $B)$(mac_hex $A)81000fff88b574730000000b
xfer 0 "$tagged" 1
ok "802.1Q-tagged frames pass untouched"

# --- frames that must go nowhere -------------------------------------
stats_save
xfer 0 "$(frame $A $E 20)"
assert_delta "$T0" drop_same_port 1
assert_eq "fdb: $E (learned before the drop)" "$T0" "$(fdb_port $E)"
ok "known unicast to the ingress port is dropped, counted"

stats_save
for src in 01:00:5e:00:00:09 00:00:00:00:00:00 $BC 03:00:00:00:00:07; do
	xfer 3 "$(frame $BC "$src" 21)"
	xfer 3 "$(frame $B "$src" 22)"
	assert_eq "fdb entry for invalid source $src" "" "$(fdb_port "$src")"
done
assert_delta "$T3" drop_src 8
assert_delta "$T3" flooded 0
for t in "$T0" "$T1" "$T2"; do
	assert_delta "$t" tx_packets 0
done
ok "multicast, broadcast and all-zero sources dropped, not learned"

# --- per-port flood flags --------------------------------------------
ctl port set "$T3" flood off
assert_eq "$T3 flood after flood off" false "$(port_field "$T3" flood)"
assert_eq "$T3 mcast_flood untouched" true "$(port_field "$T3" mcast_flood)"
xfer 0 "$(frame $U $A 30)" 1 2
xfer 0 "$(frame $BC $A 31)" 1 2 3
xfer 0 "$(frame $MC $A 32)" 1 2 3
xfer 0 "$(frame $D $A 33)" 3
ok "flood off: no unknown unicast, still broadcast, multicast, known"

ctl port set "$T2" mcast_flood off
assert_eq "$T2 mcast_flood" false "$(port_field "$T2" mcast_flood)"
xfer 0 "$(frame $MC $A 34)" 1 3
xfer 0 "$(frame $BC $A 35)" 1 2 3
xfer 0 "$(frame $U $A 36)" 1 2
ok "mcast_flood off: no multicast, still broadcast and unknown unicast"

ctl port set "$T1" bcast_flood off
assert_eq "$T1 bcast_flood" false "$(port_field "$T1" bcast_flood)"
xfer 0 "$(frame $BC $A 37)" 2 3
xfer 0 "$(frame $MC $A 38)" 1 3
xfer 0 "$(frame $B $A 39)" 1
ok "bcast_flood off: no broadcast, still multicast and known unicast"

ctl port set "$T1" bcast_flood on
ctl port set "$T2" mcast_flood on
ctl port set "$T3" flood on learning on
for t in "$T1" "$T2" "$T3"; do
	assert_json "$t flags back on" "$(ctlj port show)" \
		"map(select(.ifname == \"$t\"))[0] |
		 .flood and .mcast_flood and .bcast_flood and .learning"
done
xfer 0 "$(frame $BC $A 40)" 1 2 3
xfer 0 "$(frame $MC $A 41)" 1 2 3
xfer 0 "$(frame $U $A 42)" 1 2 3
ok "flags back on: flooding as before"

# The sender's own port never gets its frame back, whatever the flags.
xfer 3 "$(frame $BC $D 43)" 0 1 2

# A burst: 200 frames back to back from each of two ports (no settle time
# between them) must all arrive, each once, and each flow in the order it
# was sent (the two flows may interleave any way on h2).
for ((i = 0; i < 200; i++)); do
	printf 'send 0 %s\n' "$(frame $BC $A $((1000 + i)))"
	printf 'send 1 %s\n' "$(frame $C $B $((2000 + i)))"
done >"$TS_TMP/burst"
echo "wait 1000" >>"$TS_TMP/burst"
"$PKTIO" -w 0 "${PKT_IFS[@]}" <"$TS_TMP/burst" >"$TS_TMP/burst.out" ||
	fail "pktio failed on the burst"
# flow J SRC SEQ0 [N]: the lines pktio printed on interface J for the
# flow from SRC, and the ones expected (N frames from SEQ0 on), in order.
for flow in "1 $A $BC 1000" "2 $A $BC 1000" "3 $A $BC 1000" "2 $B $C 2000"; do
	read -r j src dst seq0 <<<"$flow"
	for ((i = 0; i < 200; i++)); do
		printf 'rx %s %s\n' "$j" "$(frame "$dst" "$src" $((seq0 + i)))"
	done >"$TS_TMP/burst.expect"
	grep "^rx $j $(mac_hex "$dst")$(mac_hex "$src")" "$TS_TMP/burst.out" \
		>"$TS_TMP/burst.got" || true
	if ! diff -q "$TS_TMP/burst.expect" "$TS_TMP/burst.got" >/dev/null; then
		echo "FAIL: burst, flow $src -> $dst on interface $j" \
			"(- expected, + got):" >&2
		diff -u "$TS_TMP/burst.expect" "$TS_TMP/burst.got" |
			head -n 20 >&2
		exit 1
	fi
done
assert_eq "frames of the burst on h0, all lines" 0 \
	"$(grep -c '^rx 0 ' "$TS_TMP/burst.out" || true)"
assert_eq "frames of the burst in all" 800 \
	"$(grep -c '^rx ' "$TS_TMP/burst.out" || true)"
ok "a burst of 2 x 200 frames arrives complete and in order"
daemon_alive || fail "tapswitch died"
ts_done
