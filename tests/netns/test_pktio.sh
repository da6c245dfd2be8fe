#!/bin/bash
#
# test_pktio.sh - the test tool itself, against the Linux bridge: if pktio
# or xfer() could not see a wrong forwarding decision, every other test
# would pass for nothing.  Needs no tapswitch.
#
#        h0          h1          h2          (host namespaces)
#        v0          v1          v2
#        |           |           |
#        p0          p1          p2
#        +---------- br0 --------+           (namespace br; STP off,
#                                             no multicast snooping)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init --no-daemon
trap cleanup EXIT

BR=$TS_ID-br
H0=$TS_ID-h0
H1=$TS_ID-h1
H2=$TS_ID-h2
ns_add "$BR" "$H0" "$H1" "$H2"
kbridge_add "$BR" "$H0" "$H1" "$H2"
pkt_ifs "$H0:v0" "$H1:v1" "$H2:v2"

A=02:00:00:00:00:0a
B=02:00:00:00:00:0b

xfer 0 "$(frame ff:ff:ff:ff:ff:ff $A 1)" 1 2
ok "broadcast floods; rx lines ordered by interface"
xfer 1 "$(frame $A $B 2)" 0
ok "known unicast reaches one port"

# xfer must fail when the expectation is wrong, in both directions.
if (xfer 0 "$(frame $B $A 3)" 1 2) 2>/dev/null; then
	fail "xfer accepted a flood where one port got the frame"
fi
if (xfer 0 "$(frame $B $A 4)") 2>/dev/null; then
	fail "xfer accepted silence where a port got the frame"
fi
ok "xfer notices wrong expectations"

# Host noise is filtered unless -a: frames to 33:33:xx:xx:xx:xx, and
# IPv6 frames to any destination.
for noise in "$(mac_hex 33:33:00:00:00:01)$(mac_hex $A)88b50000" \
	"$(mac_hex 01:00:5e:00:00:01)$(mac_hex $A)86dd0000"; do
	got=$(printf 'send 0 %s\nquit\n' "$noise" | pkt_run)
	assert_eq "noise $noise filtered" "." "$got"
	got=$(printf 'send 0 %s\n' "$noise" |
		"$PKTIO" -a -w "$PKT_SETTLE" "${PKT_IFS[@]}")
	assert_eq "noise $noise with -a" \
		"rx 1 $noise"$'\n'"rx 2 $noise"$'\n'"." "$got"
done
ok "host noise filter and -a"

# An 802.1Q tag taken off by VLAN offload is put back.
tagged=ffffffffffff$(mac_hex $A)8100a00a88b5747300000005
xfer 0 "$tagged" 1 2
ok "VLAN tag printed as on the wire"

# Several commands, wait, comments; our own transmissions never show.
got=$(printf '# comment\n\nsend 2 %s\nwait 0\nwait 50\n' \
	"$(frame $B $A 6)" | pkt_run)
assert_eq "send, wait, wait" "rx 1 $(frame $B $A 6)"$'\n.\n.\n.' "$got"
ok "wait, comments, blank lines"

# Bad input: exit 2 with a message; a runt cannot be sent (exit 1).
for bad in "send 3 $(frame $B $A 7)" "send 0 0g" "send 0 abc" "send x 00" \
	"send 0" "wait" "wait -1" "jump"; do
	rc=0
	printf '%s\n' "$bad" | "$PKTIO" "${PKT_IFS[@]}" >/dev/null 2>&1 || rc=$?
	assert_eq "pktio exit status for \"$bad\"" 2 "$rc"
done
rc=0
"$PKTIO" "$TS_ID-nosuchns:v0" </dev/null 2>/dev/null || rc=$?
assert_eq "pktio exit status for a missing namespace" 1 "$rc"
rc=0
echo "send 0 0102030405060708090a0b0c0d" |
	"$PKTIO" "${PKT_IFS[@]}" >/dev/null 2>&1 || rc=$?
assert_eq "pktio exit status for a 13-byte runt" 1 "$rc"
ok "bad input rejected"
ts_done
