#!/bin/bash
#
# test_diff_kbridge_vlan.sh - differential test of VLAN filtering: the
# same pseudo-random sequence of tagged, priority-tagged, other-TPID and
# untagged frames goes through
#   (a) the Linux bridge with vlan_filtering 1, when this kernel has it,
#   (b) tapswitch with vlan_filtering 1,
#   (c) a deliberately naive twin in awk (below), written from the rules
#       of the Linux bridge (br_vlan.c, br_input.c, br_forward.c),
# all with the same membership, and which port receives which bytes
# (tags included) must be the same, frame by frame; so must the learned
# (VID, MAC) table at the end.  tapswitch's per-VLAN counters must match
# the twin's, packets and bytes.  Two passes: vlan_protocol 802.1Q, then
# 802.1ad (a fresh sequence; the other TPID's tag is payload).
#
# The kernel bridge is the reference wherever it exists; but
# vlan_filtering needs CONFIG_BRIDGE_VLAN_FILTERING, which depends on
# CONFIG_VLAN_8021Q, and a kernel without 8021q refuses it (EOPNOTSUPP).
# Then (a) is left out, said so in the output, and the twin stands in;
# the test is skipped only if neither comparison could run.
#
#   (a) reference                   (b) tapswitch                 (c) twin
#   h0a  h1a  h2a  h3a  h4a         h0b  h1b  h2b  h3b  h4b
#   v0   v1   v2   v3   v4          tsXt0 ... tsXt4              awk, from
#   |    |    |    |    |           |    |    |    |    |        the same
#   p0   p1   p2   p3   p4          +--- tapswitch ---+--+        commands
#   +-------- br0 -------+          (root namespace)
#   (ns br: STP off, no multicast snooping, no br_netfilter)
#
# Membership (VLAN 1 deleted where not listed):
#   port 0  PVID 10 untagged                    (access)
#   port 1  PVID 20 untagged                    (access)
#   port 2  10, 20, 30 tagged, no PVID          (trunk)
#   port 3  PVID 1 untagged, 10 tagged, 20 untagged (hybrid; 20 leaves
#           untagged without being the PVID)
#   port 4  PVID 30 untagged, 10 and 20 tagged
#
# The sequence: TS_DIFF_FRAMES (150) frames per pass, each on a random
# port; source from a pool of 6 MACs; destination one of the pool,
# broadcast, multicast or an unknown unicast; 60 to 1514 bytes before any
# tag; untagged, tagged with the switch's TPID (VID 1, 10, 20, 30, 40,
# 4095, or 0 = priority tag; any PCP and DEI), or tagged with the other
# TPID.  Seed fixed (TS_SEED overrides) and printed.
#
# Left out (covered elsewhere or not comparable): invalid sources and
# link-local destinations (test_diff_kbridge.sh), runts and tags shorter
# than 20 bytes (the receiving kernel drops those before any bridge), the
# VLAN device features (reorder_hdr, PCP maps: a bridge has none; see
# test_vlan.sh), ageing.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

SEED=${TS_SEED:-1771}
N=${TS_DIFF_FRAMES:-150}
PKT_SETTLE=${TS_DIFF_SETTLE:-80}
NP=5
log "seed $SEED, $N frames per pass (TS_SEED=$SEED TS_DIFF_FRAMES=$N to repeat)"

POOL=(02:5e:00:00:10:01 02:5e:00:00:10:02 02:5e:00:00:10:03
	02:5e:00:00:10:04 02:5e:00:00:10:05 02:5e:00:00:10:06)
VIDS=(1 10 20 30 40 4095 0 10 20 30)

# The membership, one line per port: PORT PVID UNTAGGED-VIDS TAGGED-VIDS
# (comma separated, "-" for none).  Everything below is made from it.
MEMBERSHIP="0 10 10 -
1 20 20 -
2 - - 10,20,30
3 1 1,20 10
4 30 30 10,20"

# gen_frame K TPID OTHER: one pktio send command for frame K.
gen_frame()
{
	local k=$1 tpid=$2 other=$3 in src dst len r hex vid tci
	in=$((RANDOM % NP))
	src=${POOL[RANDOM % 6]}
	r=$((RANDOM % 100))
	if ((r < 55)); then
		dst=${POOL[RANDOM % 6]}
	elif ((r < 70)); then
		dst=ff:ff:ff:ff:ff:ff
	elif ((r < 80)); then
		dst=01:00:5e:00:00:$(printf '%02x' $((RANDOM % 4)))
	else
		dst=$(printf '02:5e:00:00:11:%02x' $((RANDOM % 256)))
	fi
	r=$((RANDOM % 100))
	if ((r < 75)); then
		len=60
	elif ((r < 90)); then
		len=$((61 + RANDOM % 140))
	else
		len=$((200 + RANDOM % 1315))
	fi
	hex=$(frame "$dst" "$src" "$k" "$len")
	r=$((RANDOM % 100))
	vid=${VIDS[RANDOM % ${#VIDS[@]}]}
	tci=$(((RANDOM % 16) << 12 | vid))
	if ((r < 55)); then
		hex=${hex:0:24}$tpid$(printf '%04x' "$tci")${hex:24}
	elif ((r < 65)); then
		hex=${hex:0:24}$other$(printf '%04x' "$tci")${hex:24}
	fi
	printf 'send %d %s\n' "$in" "$hex"
}

# The twin: reads MEMBERSHIP lines, then pktio commands; prints what
# pktio would print for a Linux bridge with vlan_filtering 1 and
# vlan_protocol TPID, then "#fdb VID MAC PORT" and "#stats PORT VID RXP
# RXB TXP TXB" lines at the end.  Naive on purpose: a flat table, a scan
# of every port for each flood.
cat >"$TS_TMP/twin.awk" <<'EOF'
function hex2dec(h,    i, v) {
	v = 0
	for (i = 1; i <= length(h); i++)
		v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
	return v
}
function macfmt(h,    i, m) {
	m = substr(h, 1, 2)
	for (i = 3; i < 12; i += 2)
		m = m ":" substr(h, i, 2)
	return m
}
function vids(list, p, kind,    n, a, i) {
	if (list == "-") return
	n = split(list, a, ",")
	for (i = 1; i <= n; i++) {
		member[p, a[i]] = 1
		if (kind == "u") untagged[p, a[i]] = 1
	}
}
FNR == NR {
	pvid[$1] = ($2 == "-") ? 0 : $2
	vids($3, $1, "u")
	vids($4, $1, "t")
	if ($1 + 1 > nports) nports = $1 + 1
	next
}
$1 == "send" {
	in_ = $2; h = $3; len = length(h) / 2
	dst = substr(h, 1, 12); src = substr(h, 13, 12)
	tagged = (substr(h, 25, 4) == tpid && len >= 18)
	if (tagged) {
		tci = hex2dec(substr(h, 29, 4)); vid = tci % 4096
		prio = tci - vid; rest = substr(h, 33)
	} else {
		vid = 0; prio = 0; rest = substr(h, 25)
	}
	# Ingress: untagged and priority-tagged take the PVID (the priority
	# bits stay); a tagged frame needs membership of its VID.
	if (!tagged || vid == 0) {
		v = pvid[in_]
	} else if (vid != 4095 && ((in_, vid) in member)) {
		v = vid
	} else {
		v = 0
	}
	if (v == 0) { print "."; next }
	rxp[in_, v]++; rxb[in_, v] += len
	fdb[v, src] = in_
	n = 0
	group = index("13579bdf", substr(dst, 2, 1)) > 0
	if (!group && ((v, dst) in fdb)) {
		o = fdb[v, dst]
		if (o != in_ && ((o, v) in member)) out[n++] = o
	} else {
		for (o = 0; o < nports; o++)
			if (o != in_ && ((o, v) in member)) out[n++] = o
	}
	for (i = 0; i < n; i++) {
		o = out[i]
		if ((o, v) in untagged)
			f = dst src rest
		else
			f = dst src tpid sprintf("%04x", prio + v) rest
		print "rx " o " " f
		txp[o, v]++; txb[o, v] += length(f) / 2
	}
	print "."
}
END {
	for (k in fdb) {
		split(k, a, SUBSEP)
		print "#fdb " a[1] " " macfmt(a[2]) " " fdb[k]
	}
	for (p = 0; p < nports; p++)
		for (v = 1; v < 4095; v++)
			if ((p, v) in member && (rxp[p, v] + txp[p, v]) > 0)
				print "#stats " p " " v " " rxp[p, v] + 0 " " \
					rxb[p, v] + 0 " " txp[p, v] + 0 " " txb[p, v] + 0
}
EOF

# annotate CMDS OUT: each collection headed by the frame that caused it.
annotate()
{
	awk 'NR == FNR { cmd[NR] = $0; next }
	     !started { k = 1; print "== 1: " cmd[1]; started = 1 }
	     $0 == "." { k++; if (k in cmd) print "== " k ": " cmd[k]; next }
	     { print }' "$1" "$2"
}

# compare WHAT A B NAME_A NAME_B: the same lines, or a FAIL with the diff.
DIFF_FAILED=0
compare()
{
	if ! diff -u "$2" "$3" >"$TS_TMP/diff"; then
		echo "FAIL: $1 (- $4, + $5):" >&2
		head -n 60 "$TS_TMP/diff" >&2
		DIFF_FAILED=1
	fi
}

# --- the sequences and the twin ----------------------------------------------
RANDOM=$SEED
for ((k = 1; k <= N; k++)); do
	gen_frame "$k" 8100 88a8
done >"$TS_TMP/cmds.1q"
RANDOM=$((SEED + 1))
for ((k = 1; k <= N; k++)); do
	gen_frame "$k" 88a8 8100
done >"$TS_TMP/cmds.1ad"
for pass in 1q:8100 1ad:88a8; do
	p=${pass%%:*}
	printf '%s\n' "$MEMBERSHIP" |
		awk -v tpid="${pass#*:}" -f "$TS_TMP/twin.awk" - "$TS_TMP/cmds.$p" \
			>"$TS_TMP/twin.$p.all"
	grep -v '^#' "$TS_TMP/twin.$p.all" >"$TS_TMP/out.twin.$p" || true
	sed -n 's/^#fdb //p' "$TS_TMP/twin.$p.all" | LC_ALL=C sort \
		>"$TS_TMP/fdb.twin.$p"
	sed -n 's/^#stats //p' "$TS_TMP/twin.$p.all" | LC_ALL=C sort \
		>"$TS_TMP/stats.twin.$p"
	log "twin, $p: $(grep -c '^rx' "$TS_TMP/out.twin.$p") frames received," \
		"$(wc -l <"$TS_TMP/fdb.twin.$p") (VID, MAC) learned"
	# A sequence that forwards next to nothing would prove nothing.
	[ "$(grep -c '^rx' "$TS_TMP/out.twin.$p")" -gt $((N / 2)) ] ||
		fail "the $p sequence forwards too little to compare anything"
done

# membership_cmds PREFIX PORTNAME_FMT: the commands that set MEMBERSHIP up,
# for tapswitchctl ("ts") or bridge(8) ("br").
membership_apply()
{
	local how=$1 port pv untag tag dev v
	while read -r port pv untag tag; do
		dev=$(printf "$2" "$port")
		"$how" del "$dev" 1
		for v in ${untag//,/ }; do
			[ "$v" = - ] && continue
			if [ "$v" = "$pv" ]; then
				"$how" add "$dev" "$v" pvid untagged
			else
				"$how" add "$dev" "$v" untagged
			fi
		done
		for v in ${tag//,/ }; do
			[ "$v" = - ] && continue
			"$how" add "$dev" "$v"
		done
	done <<<"$MEMBERSHIP"
}
ts_vlan()
{
	local op=$1 dev=$2 vid=$3
	shift 3
	ctl vlan "$op" dev "$dev" vid "$vid" "$@" ||
		fail "tapswitchctl vlan $op dev $dev vid $vid $*"
}
br_vlan()
{
	local op=$1 dev=$2 vid=$3
	shift 3
	ip netns exec "$KBR" bridge vlan "$op" dev "$dev" vid "$vid" "$@" ||
		fail "bridge vlan $op dev $dev vid $vid $*"
}

# --- (b) tapswitch -------------------------------------------------------------
hosts_setup $NP --vlan-filtering 1
membership_apply ts_vlan "${TS_ID}t%s"
# The membership as tapswitch reports it, against MEMBERSHIP.
while read -r port pv untag tag; do
	want=$(for v in ${untag//,/ } ${tag//,/ }; do
		[ "$v" = - ] && continue
		f=
		[ "$v" = "$pv" ] && f=P
		case ",$untag," in *",$v,"*) f+=U ;; esac
		echo "$v$f"
	done | sort -n | paste -sd ' ' -)
	got=$(ctlj vlan show dev "${TS_ID}t$port" | jq -r '.[0].vlans[] |
		"\(.vlan)\(if (.flags // []) | index("PVID") then "P" else "" end)\(if (.flags // []) | index("Egress Untagged") then "U" else "" end)"' |
		paste -sd ' ' -)
	assert_eq "tapswitch membership of port $port" "$want" "$got"
done <<<"$MEMBERSHIP"

pass_ts()
{
	local p=$1
	settle_fdb
	TS_VSTATS=$(ctlj -s vlan show)
	pkt_run <"$TS_TMP/cmds.$p" >"$TS_TMP/out.ts.$p"
	ctlj fdb show | jq -r --arg id "${TS_ID}t" \
		'.[] | select(.flags == []) |
		 "\(.vlan) \(.mac) \(.ifname | ltrimstr($id))"' |
		LC_ALL=C sort >"$TS_TMP/fdb.ts.$p"
	jq -rn --argjson a "$TS_VSTATS" --argjson b "$(ctlj -s vlan show)" \
		--arg id "${TS_ID}t" '
		($a | map({key: .ifname, value: (.vlans | map({key: (.vlan | tostring), value: .stats}) | from_entries)}) | from_entries) as $old |
		$b[] | .ifname as $n | .vlans[] |
		(.stats) as $s | ($old[$n][.vlan | tostring] // {rx_packets: 0, rx_bytes: 0, tx_packets: 0, tx_bytes: 0}) as $o |
		[$s.rx_packets - $o.rx_packets, $s.rx_bytes - $o.rx_bytes,
		 $s.tx_packets - $o.tx_packets, $s.tx_bytes - $o.tx_bytes] as $d |
		select($d[0] + $d[2] > 0) |
		"\($n | ltrimstr($id)) \(.vlan) \($d | map(tostring) | join(" "))"' |
		LC_ALL=C sort >"$TS_TMP/stats.ts.$p"
	log "tapswitch, $p: $(grep -c '^rx' "$TS_TMP/out.ts.$p") frames received," \
		"$(wc -l <"$TS_TMP/fdb.ts.$p") (VID, MAC) learned"
}
pass_ts 1q
ctl set vlan_protocol 802.1ad
pass_ts 1ad
daemon_alive || fail "tapswitch died"

for p in 1q 1ad; do
	annotate "$TS_TMP/cmds.$p" "$TS_TMP/out.twin.$p" >"$TS_TMP/a.$p"
	annotate "$TS_TMP/cmds.$p" "$TS_TMP/out.ts.$p" >"$TS_TMP/b.$p"
	compare "$p: frames, tapswitch against the twin (seed $SEED)" \
		"$TS_TMP/a.$p" "$TS_TMP/b.$p" twin tapswitch
	compare "$p: learned (VID, MAC) -> port, tapswitch against the twin" \
		"$TS_TMP/fdb.twin.$p" "$TS_TMP/fdb.ts.$p" twin tapswitch
	compare "$p: per-VLAN counters (port vid rx_packets rx_bytes tx_packets tx_bytes)" \
		"$TS_TMP/stats.twin.$p" "$TS_TMP/stats.ts.$p" twin tapswitch
done
[ "$DIFF_FAILED" = 0 ] || exit 1
ok "tapswitch agrees with the twin: frames, tags, learned table, counters"

# --- (a) the Linux bridge ---------------------------------------------------------
KBR=$TS_ID-br
ns_add "$KBR"
ip -n "$KBR" link add brprobe type bridge 2>/dev/null || fail "cannot make a bridge"
if ! ip -n "$KBR" link set brprobe type bridge vlan_filtering 1 2>"$TS_TMP/err"; then
	ip -n "$KBR" link del brprobe
	log "NOTE: the kernel bridge here has no vlan_filtering" \
		"($(head -n1 "$TS_TMP/err")): no CONFIG_BRIDGE_VLAN_FILTERING" \
		"(it needs CONFIG_VLAN_8021Q); compared with the twin only"
	ts_done
	exit 0
fi
ip -n "$KBR" link del brprobe

pass_kbr()
{
	local p=$1 proto=$2 i hs=()
	for ((i = 0; i < NP; i++)); do
		hs+=("$TS_ID-$p-h${i}a")
	done
	ns_add "${hs[@]}"
	# A fresh bridge per pass: nothing learned, the protocol from the
	# start.
	ip -n "$KBR" link del br0 2>/dev/null || true
	kbridge_add "$KBR" "${hs[@]}"
	ip -n "$KBR" link set br0 type bridge vlan_filtering 1 \
		vlan_protocol "$proto" || fail "vlan_filtering on br0"
	membership_apply br_vlan "p%s"
	pkt_ifs $(for ((i = 0; i < NP; i++)); do echo "${hs[i]}:v$i"; done)
	pkt_run <"$TS_TMP/cmds.$p" >"$TS_TMP/out.kbr.$p"
	ip netns exec "$KBR" bridge -j fdb show br br0 |
		jq -r '.[] | select(.state != "permanent" and
				     (.flags | index("self") | not) and .vlan != null) |
		       "\(.vlan) \(.mac) \(.ifname | ltrimstr("p"))"' |
		LC_ALL=C sort >"$TS_TMP/fdb.kbr.$p"
	log "kernel bridge, $p: $(grep -c '^rx' "$TS_TMP/out.kbr.$p") frames" \
		"received, $(wc -l <"$TS_TMP/fdb.kbr.$p") (VID, MAC) learned"
	# The hosts of this pass go; their veths with them.
	for ((i = 0; i < NP; i++)); do
		ip -n "$KBR" link del "p$i" 2>/dev/null || true
	done
}
pass_kbr 1q 802.1Q
pass_kbr 1ad 802.1ad
for p in 1q 1ad; do
	annotate "$TS_TMP/cmds.$p" "$TS_TMP/out.kbr.$p" >"$TS_TMP/k.$p"
	compare "$p: frames, tapswitch against the Linux bridge (seed $SEED)" \
		"$TS_TMP/k.$p" "$TS_TMP/b.$p" "kernel bridge" tapswitch
	compare "$p: learned (VID, MAC) -> port, tapswitch against the Linux bridge" \
		"$TS_TMP/fdb.kbr.$p" "$TS_TMP/fdb.ts.$p" "kernel bridge" tapswitch
done
[ "$DIFF_FAILED" = 0 ] || exit 1
ok "tapswitch agrees with the Linux bridge: frames, tags, learned table"
ts_done
