#!/bin/bash
#
# test_diff_kbridge.sh - differential test against the Linux bridge: the
# same pseudo-random sequence of frames goes through (a) a kernel bridge
# and (b) tapswitch, and which port receives which frame must be the same,
# frame by frame; so must the learned table at the end.
#
#   (a) reference                            (b) tapswitch
#
#   h0a    h1a    h2a    h3a                 h0b    h1b    h2b    h3b
#   v0     v1     v2     v3                  tsXt0  tsXt1  tsXt2  tsXt3
#    |      |      |      |                    |      |      |      |
#   p0     p1     p2     p3                    +--- tapswitch ---+--+
#   +------- br0 --------+                          (root namespace)
#   (namespace br: STP off, no multicast snooping, no br_netfilter)
#
# The sequence: TS_DIFF_FRAMES (150) frames, each on a random one of the 4
# ports; source from a pool of 6 MACs, now and then an invalid one
# (multicast, broadcast, all-zero); destination one of the pool,
# broadcast, multicast, 01:80:c2:00:00:00/01/0e or another of 02-0f, or an
# unknown unicast; lengths from 14 bytes (header only) to 1514; a few
# 802.1Q-tagged.  The seed is fixed (TS_SEED overrides) and printed.
#
# Left out, because they cannot be compared fairly:
# - runts (< 14 bytes): the kernel refuses to send a frame shorter than an
#   Ethernet header on any Ethernet device (dev_validate_header()), so
#   neither a veth nor a tap can carry one to either switch;
# - IPv4, IPv6 and ARP ethertypes: br_netfilter would parse them on the
#   bridge side (we turn it off in that namespace, but the hosts' stacks
#   would still answer some), so the frames use the experimental 0x88b5;
# - tagged frames shorter than 20 bytes: the receiving kernel drops them
#   before any bridge sees them (skb_vlan_untag() wants 2 bytes past the
#   tag), so the Linux bridge never learns from them, while a tap hands
#   them to tapswitch whole (measured: seeds 1 and 3 with 300 frames);
# - frames to the bridge's own MACs, which the kernel delivers to itself:
#   no test MAC is ever one of them (they are fixed to 02:b0:...);
# - ageing: both run far below the default 300 s.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

SEED=${TS_SEED:-4242}
N=${TS_DIFF_FRAMES:-150}
# Long enough that a late frame cannot slip into the next window.
PKT_SETTLE=${TS_DIFF_SETTLE:-80}
log "seed $SEED, $N frames (TS_SEED=$SEED TS_DIFF_FRAMES=$N to repeat)"

POOL=(02:5e:00:00:00:01 02:5e:00:00:00:02 02:5e:00:00:00:03
	02:5e:00:00:00:04 02:5e:00:00:00:05 02:5e:00:00:00:06)
BAD_SRC=(01:00:5e:00:00:07 00:00:00:00:00:00 ff:ff:ff:ff:ff:ff
	03:5e:00:00:00:01)

# gen_frame K: print one pktio send command for frame K.
gen_frame()
{
	local k=$1 in src dst len r hex
	in=$((RANDOM % 4))
	if ((RANDOM % 100 < 8)); then
		src=${BAD_SRC[RANDOM % ${#BAD_SRC[@]}]}
	else
		src=${POOL[RANDOM % 6]}
	fi
	r=$((RANDOM % 100))
	if ((r < 45)); then
		dst=${POOL[RANDOM % 6]}
	elif ((r < 55)); then
		dst=ff:ff:ff:ff:ff:ff
	elif ((r < 62)); then
		dst=$([ $((RANDOM % 2)) = 0 ] && echo 01:00:5e:00:00:01 ||
			echo 03:00:00:00:00:01)
	elif ((r < 67)); then
		dst=01:80:c2:00:00:00
	elif ((r < 72)); then
		dst=01:80:c2:00:00:01
	elif ((r < 77)); then
		dst=01:80:c2:00:00:0e
	elif ((r < 82)); then
		dst=$(printf '01:80:c2:00:00:%02x' $((2 + RANDOM % 14)))
	else
		dst=$(printf '02:5e:00:00:01:%02x' $((RANDOM % 256)))
	fi
	r=$((RANDOM % 100))
	if ((r < 65)); then
		len=60
	elif ((r < 75)); then
		len=14
	elif ((r < 90)); then
		len=$((15 + RANDOM % 186))
	else
		len=$((200 + RANDOM % 1315))
	fi
	hex=$(frame "$dst" "$src" "$k" "$len")
	# 802.1Q tag, any PCP and VID (VID 0: priority tag), on frames that
	# will be at least 20 bytes long with it (see the header).
	if ((RANDOM % 100 < 6 && len >= 16)); then
		hex=${hex:0:24}8100$(printf '%04x' $((RANDOM % 65536)))${hex:24}
	fi
	printf 'send %d %s\n' "$in" "$hex"
}

RANDOM=$SEED
for ((k = 1; k <= N; k++)); do
	gen_frame "$k"
done >"$TS_TMP/cmds"

# annotate CMDS OUT: each collection headed by the frame that caused it,
# so that a diff shows which frame went astray.
annotate()
{
	awk 'NR == FNR { cmd[NR] = $0; next }
	     !started { k = 1; print "== 1: " cmd[1]; started = 1 }
	     $0 == "." { k++; if (k in cmd) print "== " k ": " cmd[k]; next }
	     { print }' "$1" "$2"
}

# --- (a) the Linux bridge -------------------------------------------------
BR=$TS_ID-br
HA=("$TS_ID-h0a" "$TS_ID-h1a" "$TS_ID-h2a" "$TS_ID-h3a")
ns_add "$BR" "${HA[@]}"
kbridge_add "$BR" "${HA[@]}"
pkt_ifs "${HA[0]}:v0" "${HA[1]}:v1" "${HA[2]}:v2" "${HA[3]}:v3"
pkt_run <"$TS_TMP/cmds" >"$TS_TMP/out.kbridge"
ip netns exec "$BR" bridge -j fdb show br br0 |
	jq -r '.[] | select(.state != "permanent" and (.flags | index("self") | not)) |
	       "\(.mac) \(.ifname | ltrimstr("p"))"' |
	LC_ALL=C sort >"$TS_TMP/fdb.kbridge"
log "kernel bridge: $(grep -c '^rx' "$TS_TMP/out.kbridge") frames received," \
	"$(wc -l <"$TS_TMP/fdb.kbridge") MACs learned"

# --- (b) tapswitch ---------------------------------------------------------
hosts_setup 4
pkt_run <"$TS_TMP/cmds" >"$TS_TMP/out.tapswitch"
ctlj fdb show |
	jq -r --arg id "$TS_ID" \
		'.[] | select(.flags == []) |
		 "\(.mac) \(.ifname | ltrimstr($id + "t"))"' |
	LC_ALL=C sort >"$TS_TMP/fdb.tapswitch"
log "tapswitch:     $(grep -c '^rx' "$TS_TMP/out.tapswitch") frames received," \
	"$(wc -l <"$TS_TMP/fdb.tapswitch") MACs learned"

# --- compare -----------------------------------------------------------------
annotate "$TS_TMP/cmds" "$TS_TMP/out.kbridge" >"$TS_TMP/a.kbridge"
annotate "$TS_TMP/cmds" "$TS_TMP/out.tapswitch" >"$TS_TMP/b.tapswitch"
if ! diff -u "$TS_TMP/a.kbridge" "$TS_TMP/b.tapswitch" >"$TS_TMP/diff"; then
	echo "FAIL: tapswitch and the Linux bridge disagree (seed $SEED):" >&2
	echo "  ('== K: send PORT FRAME' heads what each frame caused;" \
		"- kernel bridge, + tapswitch)" >&2
	head -n 80 "$TS_TMP/diff" >&2
	exit 1
fi
[ "$(grep -c '^rx' "$TS_TMP/out.kbridge")" -gt "$N" ] ||
	fail "the reference forwarded too little to compare anything"
ok "every frame reached the same ports through both switches"

if ! diff -u "$TS_TMP/fdb.kbridge" "$TS_TMP/fdb.tapswitch" >"$TS_TMP/diff"; then
	echo "FAIL: learned tables differ (MAC port; - kernel, + tapswitch):" >&2
	cat "$TS_TMP/diff" >&2
	exit 1
fi
ok "the learned tables are the same"
ts_done
