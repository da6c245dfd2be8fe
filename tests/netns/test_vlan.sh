#!/bin/bash
#
# test_vlan.sh - 802.1Q VLAN filtering with real frames: two access VLANs,
# trunks, tagging towards trunks and stripping towards access ports,
# non-member VIDs, priority tags, PCP and DEI, per-VLAN learning, floods
# confined to their VLAN, reorder_hdr off, the PCP maps, 802.1ad mode,
# control errors, deleting a PVID, the per-VLAN counters, and a ping that
# works inside a VLAN and not across.  Independent checks report and go
# on (check_*, xf), so that one run lists every mismatch.
#
#    h0        h1        h2        h3          h4          h5
#   A10a      A10b      A20       T           S           U
#  (tsXt0)   (tsXt1)   (tsXt2)   (tsXt3)     (tsXt4)     (tsXt5)
#  PVID 10   PVID 10   PVID 20   10, 20      PVID 20     PVID 1 untagged,
#  untagged  untagged  untagged  tagged,     untagged,   10, 20 tagged
#                                no PVID     reorder_hdr (a hybrid trunk)
#                                            off
#     |         |         |         |           |           |
#     +---------+---------+--- tapswitch ---+---+-----------+
#                    vlan_filtering 1 (root namespace; holds the tap fds)
#
# VLAN 1 is deleted on every port but U, so U is alone in VLAN 1.
# pktio interface i is port i above, in host i; a tag the receiving
# kernel took off into metadata is put back by pktio, so every frame is
# compared as it was on the wire.
#
# Semantics asserted (the Linux bridge with vlan_filtering 1, plus the
# VLAN device's reorder_hdr and priority maps; README "VLANs"): untagged
# and priority-tagged frames take the PVID (a priority tag keeps its PCP)
# or are dropped without one; tagged frames of a VID the port is not a
# member of are dropped, counted in drop_vlan; learning and lookup per
# (VID, MAC); egress untagged strips, tagged keeps or inserts, PCP and DEI
# travel; reorder_hdr off keeps the tag where the membership is untagged.
#
# Per-VLAN byte counters are asserted as tapswitch defines them (the
# frame's length on the wire, as it came in and as it went out, like the
# per-port counters).  The Linux bridge counts the length after the
# Ethernet header instead; see test_diff_kbridge_vlan.sh.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

hosts_setup 6 --vlan-filtering 1
NAMES=(A10a A10b A20 T S U)
A10A=${TAPS[0]} A10B=${TAPS[1]} A20=${TAPS[2]} TR=${TAPS[3]} SN=${TAPS[4]}
HY=${TAPS[5]}

MA=02:00:00:00:10:0a	# a host on A10a
MB=02:00:00:00:10:0b	# a host on A10b
MC=02:00:00:00:20:0c	# a host on A20
MT=02:00:00:00:77:01	# a host behind the trunk T
MU=02:00:00:00:77:02	# a host behind U
MM=02:00:00:00:99:4d	# one MAC in two VLANs
MS=02:00:00:00:99:5e	# a static entry
UNK=02:00:00:00:99:99	# never sends: unknown unicast
BC=ff:ff:ff:ff:ff:ff
MCAST=01:00:5e:00:00:05

# ------------------------------------------------------------ helpers

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
		out+=" dei $(((tci >> 12) & 1))"
		off=$((off + 8))
	done
	printf '%s type %s' "$out" "${h:off:4}"
}

# xf WHAT IN HEX [J[=HEX]]...: send HEX on pktio interface IN; exactly
# the interfaces J receive a frame, once each: the one given after "=",
# or HEX itself.  Nothing else may arrive anywhere.  Reports and goes on.
xf()
{
	local what=$1 in=$2 hex=$3 arg j h lines= expect got
	shift 3
	for arg in "$@"; do
		j=${arg%%=*}
		h=$hex
		case $arg in *=*) h=${arg#*=} ;; esac
		lines+="rx $j $h"$'\n'
	done
	expect=$(printf '%s' "$lines" | sort -s -n -k2,2)
	[ -z "$expect" ] || expect+=$'\n'
	expect+=.
	got=$(printf 'send %s %s\n' "$in" "$hex" | pkt_run)
	[ "$got" = "$expect" ] && return 0
	TS_FAILED=1
	{
		printf 'FAIL: %s\n  sent on %s: %s\n' "$what" "${NAMES[in]}" \
			"$(describe "$hex")"
		printf '  expected:\n'
		show_rx "$expect"
		printf '  got:\n'
		show_rx "$got"
	} >&2
	return 0
}

show_rx()
{
	local line n=0
	while read -r line; do
		case $line in
		rx\ *)
			set -- $line
			printf '    %-4s %s\n' "${NAMES[$2]}" "$(describe "$3")"
			n=$((n + 1))
			;;
		esac
	done <<<"$1"
	[ "$n" -gt 0 ] || printf '    nothing\n'
}

# check_delta PORT COUNTER N: like assert_delta, but report and go on.
check_delta()
{
	check_eq "${NAMES[$(port_index "$1")]} stats.$2 grew by" "$3" \
		"$(stat_delta "$1" "$2")"
}

port_index()
{
	local i
	for i in "${!TAPS[@]}"; do
		[ "${TAPS[i]}" = "$1" ] && echo "$i" && return 0
	done
	echo "?"
}

# Per-VLAN counters: vstats_save, then vstat_delta PORT VID KEY.
vstats_save() { TS_VSTATS=$(ctlj -s vlan show) || exit 1; }
vstat_delta()
{
	local now
	now=$(ctlj -s vlan show) || exit 1
	# shellcheck disable=SC2016 # jq variables, not shell ones
	ts_jq "vstat_delta $*" -rn --argjson a "$TS_VSTATS" --argjson b "$now" \
		--arg n "$1" --argjson v "$2" --arg k "$3" '
		def get(x): [x[] | select(.ifname == $n) | .vlans[] |
			     select(.vlan == $v) | .stats[$k]] | first // 0;
		get($b) - get($a)'
}
# check_vdelta PORT VID "RXP RXB TXP TXB": all four counters' growth.
check_vdelta()
{
	local got
	got="$(vstat_delta "$1" "$2" rx_packets) $(vstat_delta "$1" "$2" rx_bytes)"
	got+=" $(vstat_delta "$1" "$2" tx_packets) $(vstat_delta "$1" "$2" tx_bytes)"
	check_eq "${NAMES[$(port_index "$1")]} vlan $2 stats growth (rx_packets rx_bytes tx_packets tx_bytes)" \
		"$3" "$got"
}

# fdb_vlan_entries: "ifname-index:vlan:mac" of every entry, sorted.
fdb_entries()
{
	# shellcheck disable=SC2016 # jq variables, not shell ones
	ctlj fdb show | ts_jq fdb_entries -r --arg id "${TS_ID}t" \
		'.[] | "\(.ifname | ltrimstr($id)):\(.vlan // "none"):\(.mac)"' |
		LC_ALL=C sort | paste -sd ' ' -
}

# ctl_err WHAT ARGS...: a control command that must fail: non-zero exit,
# one line "Error: ..." on stderr, nothing on stdout.
ctl_err()
{
	local what=$1 rc=0 out err
	shift
	out=$("$TAPSWITCHCTL" --ctl "$TS_SOCK" "$@" 2>"$TS_TMP/err") || rc=$?
	err=$(cat "$TS_TMP/err")
	if [ "$rc" = 0 ]; then
		check_eq "$what: tapswitchctl $* exit status" "non-zero" "0"
	fi
	case $err in
	Error:*) [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] ||
		check_eq "$what: one line on stderr" "one line" "$err" ;;
	*) check_eq "$what: tapswitchctl $* stderr" "Error: ..." "$err" ;;
	esac
	check_eq "$what: tapswitchctl $* stdout" "" "$out"
}

fr() { frame "$@"; }
# strip HEX: HEX without its first tag.
strip() { printf '%s%s' "${1:0:24}" "${1:32}"; }

# ------------------------------------------------------------ config

for p in "$A10A" "$A10B"; do
	ctl vlan add dev "$p" vid 10 pvid untagged
done
ctl vlan add dev "$A20" vid 20 pvid untagged
ctl vlan add dev "$SN" vid 20 pvid untagged
ctl port set "$SN" reorder_hdr off
ctl vlan add dev "$TR" vid 10
ctl vlan add dev "$TR" vid 20
ctl vlan add dev "$HY" vid 10
ctl vlan add dev "$HY" vid 20
for p in "$A10A" "$A10B" "$A20" "$TR" "$SN"; do
	ctl vlan del dev "$p" vid 1
done

vs=$(ctlj vlan show)
want=$(jq -cn --arg a "$A10A" --arg b "$A10B" --arg c "$A20" --arg t "$TR" \
	--arg s "$SN" --arg u "$HY" '
	[{ifname: $a, vlans: [{vlan: 10, flags: ["PVID", "Egress Untagged"]}]},
	 {ifname: $b, vlans: [{vlan: 10, flags: ["PVID", "Egress Untagged"]}]},
	 {ifname: $c, vlans: [{vlan: 20, flags: ["PVID", "Egress Untagged"]}]},
	 {ifname: $t, vlans: [{vlan: 10}, {vlan: 20}]},
	 {ifname: $s, vlans: [{vlan: 20, flags: ["PVID", "Egress Untagged"]}]},
	 {ifname: $u, vlans: [{vlan: 1, flags: ["PVID", "Egress Untagged"]},
			       {vlan: 10}, {vlan: 20}]}] | sort_by(.ifname)')
check_eq "-j vlan show after the configuration" "$want" \
	"$(printf '%s' "$vs" | jq -c 'sort_by(.ifname)')"
check_eq "$SN reorder_hdr" false "$(port_field "$SN" reorder_hdr)"
check_eq "$A20 reorder_hdr" true "$(port_field "$A20" reorder_hdr)"
ok "membership as configured (vlan show -j)"

# ------------------------------------- tagging, stripping, confinement

h=$(fr $BC $MA 1)
xf "broadcast from an access port of VLAN 10" 0 "$h" \
	1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
h=$(fr $BC $MC 2)
xf "broadcast from an access port of VLAN 20 (S keeps the tag)" 2 "$h" \
	"3=$(tg "$h" 20)" "4=$(tg "$h" 20)" "5=$(tg "$h" 20)"
h=$(fr $UNK $MA 3)
xf "unknown unicast in VLAN 10 floods only VLAN 10" 0 "$h" \
	1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
h=$(fr $MCAST $MC 4)
xf "multicast in VLAN 20 floods only VLAN 20" 2 "$h" \
	"3=$(tg "$h" 20)" "4=$(tg "$h" 20)" "5=$(tg "$h" 20)"
h=$(fr $UNK $MU 5)
xf "untagged on the hybrid port: VLAN 1, where it is alone" 5 "$h"
ok "access -> trunk: tag inserted; floods stay in their VLAN"

h=$(tg "$(fr $BC $MT 10)" 10)
xf "tagged 10 from the trunk: stripped on access ports" 3 "$h" \
	"0=$(strip "$h")" "1=$(strip "$h")" 5
h=$(tg "$(fr $BC $MT 11)" 20)
xf "tagged 20 from the trunk: stripped on A20, kept on S" 3 "$h" \
	"2=$(strip "$h")" 4 5
h=$(tg "$(fr $UNK $MU 12)" 20)
xf "tagged 20 from the hybrid port" 5 "$h" "2=$(strip "$h")" 3 4
ok "trunk -> access: tag stripped (kept where reorder_hdr is off)"

# A tagged frame of the VID an access port belongs to is accepted there
# (membership is membership; only the egress differs), as in Linux.
h=$(tg "$(fr $BC $MA 13)" 10 0)
xf "tagged 10 arriving on an access port of VLAN 10" 0 "$h" \
	"1=$(strip "$h")" 3 5
ok "a tagged frame of its own VLAN is accepted on an access port"

# ----------------------------------------------------- non-member VIDs

stats_save
xf "tagged 30 on the trunk (not a member)" 3 "$(tg "$(fr $BC $MT 20)" 30)"
xf "tagged 1 on the trunk (VLAN 1 deleted there)" 3 \
	"$(tg "$(fr $BC $MT 21)" 1)"
xf "tagged 4095 on the trunk" 3 "$(tg "$(fr $BC $MT 22)" 4095)"
xf "untagged on the trunk (no PVID)" 3 "$(fr $BC $MT 23)"
xf "priority-tagged on the trunk (no PVID)" 3 "$(tg "$(fr $BC $MT 24)" 0 5)"
xf "tagged 20 on an access port of VLAN 10" 0 "$(tg "$(fr $BC $MA 25)" 20)"
xf "tagged 30 on the hybrid port" 5 "$(tg "$(fr $BC $MU 26)" 30)"
check_delta "$TR" drop_vlan 5
check_delta "$A10A" drop_vlan 1
check_delta "$HY" drop_vlan 1
for p in "${TAPS[@]}"; do
	check_delta "$p" tx_packets 0
done
check_delta "$TR" rx_packets 5
ok "non-member VIDs and untagged frames without a PVID dropped, counted"

# Nothing is learned from a frame the VLAN filter dropped.
check_eq "fdb after the dropped frames (no MT, no MA in VLAN 20)" \
	"0:10:$MA 3:10:$MT 3:20:$MT" \
	"$(fdb_entries | tr ' ' '\n' | grep -E ":($MT|$MA)\$" | paste -sd ' ' -)"
ok "no learning from dropped frames"

# A truncated tag: 15 bytes, the TPID and half a TCI.
stats_save
xf "a truncated 802.1Q header" 3 "$(mac_hex $BC)$(mac_hex $MT)810000"
if [ "${TS_PORT_KIND:-tap}" != afpacket ]; then
	check_delta "$TR" drop_bad_tag 1
	ok "truncated tag dropped, counted in drop_bad_tag"
else
	# On an afpacket port the kernel's receive path takes the tag out
	# before a packet socket sees the frame, and drops one it cannot
	# parse (XDP, like a tap, sees the frame as it came).
	check_delta "$TR" drop_bad_tag 0
	check_delta "$TR" rx_packets 0
	ok "truncated tag dropped by the kernel before the switch"
fi

# ------------------------------------------------------- priority tags

h=$(tg "$(fr $BC $MA 30)" 0 5)
xf "priority tag (PCP 5) from A10a: VLAN 10, PCP kept on trunks" 0 "$h" \
	"1=$(strip "$h")" "3=$(tg "$(fr $BC $MA 30)" 10 5)" \
	"5=$(tg "$(fr $BC $MA 30)" 10 5)"
h=$(tg "$(fr $BC $MC 31)" 0 6 1)
xf "priority tag (PCP 6, DEI) from A20: S and trunks tagged 20, PCP 6" \
	2 "$h" "3=$(tg "$(fr $BC $MC 31)" 20 6 1)" \
	"4=$(tg "$(fr $BC $MC 31)" 20 6 1)" "5=$(tg "$(fr $BC $MC 31)" 20 6 1)"
stats_save
h=$(tg "$(fr $BC $MU 32)" 0 3)
xf "priority tag on the hybrid port: its PVID 1, alone there" 5 "$h"
check_delta "$HY" drop_vlan 0
ok "priority tags take the PVID and keep their PCP"

# ------------------------------------------------------- PCP and DEI

h=$(tg "$(fr $BC $MT 40)" 10 7 1)
xf "tagged 10 PCP 7 DEI 1 from T" 3 "$h" \
	"0=$(strip "$h")" "1=$(strip "$h")" 5
h=$(tg "$(fr $BC $MU 41)" 20 2 1)
xf "tagged 20 PCP 2 DEI 1 from U" 5 "$h" "2=$(strip "$h")" 3 4
h=$(tg "$(fr $BC $MT 42)" 20 4 0)
xf "tagged 20 PCP 4 from T" 3 "$h" "2=$(strip "$h")" 4 5
ok "PCP and DEI travel unchanged between tagged ports"

# ------------------------------------------------- per-VLAN learning

ctl fdb flush >/dev/null
h=$(fr $BC $MM 50)
xf "MM in VLAN 10 (from A10a)" 0 "$h" 1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
h=$(fr $BC $MM 51)
xf "MM in VLAN 20 (from A20)" 2 "$h" \
	"3=$(tg "$h" 20)" "4=$(tg "$h" 20)" "5=$(tg "$h" 20)"
check_eq "fdb: MM learned once per VLAN" "0:10:$MM 2:20:$MM" "$(fdb_entries)"
check_json "fdb -j: every entry carries its vlan" "$(ctlj fdb show)" \
	'length == 2 and all(.[]; (.vlan | type) == "number")'
check_eq "fdb show vlan 20" "$A20" \
	"$(ctlj fdb show vlan 20 | jq -r 'map(.ifname) | join(" ")')"
h=$(tg "$(fr $MM $MT 52)" 10)
xf "to MM tagged 10 from T: A10a only" 3 "$h" "0=$(strip "$h")"
h=$(tg "$(fr $MM $MT 53)" 20)
xf "to MM tagged 20 from T: A20 only" 3 "$h" "2=$(strip "$h")"
h=$(tg "$(fr $MM $MU 54)" 10 3)
xf "to MM tagged 10 from U: A10a only" 5 "$h" "0=$(strip "$h")"
h=$(fr $MM $MC 55)
xf "to MM from A20 (MM is on A20 in VLAN 20: same port)" 2 "$h"
# MM moves within VLAN 10 only.
h=$(fr $BC $MM 56)
xf "MM now on A10b in VLAN 10" 1 "$h" 0 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
check_eq "fdb: MM moved in VLAN 10 only" "1:10:$MM 2:20:$MM" \
	"$(fdb_entries | tr ' ' '\n' | grep ":$MM\$" | paste -sd ' ' -)"
ok "learning and lookup per (VID, MAC)"

# Static entries and flush per VLAN.
ctl fdb add $MS dev "$HY" vlan 20 static
check_json "fdb -j: the static entry" "$(ctlj fdb show)" \
	"any(.[]; .mac == \"$MS\" and .vlan == 20 and .ifname == \"$HY\")"
h=$(fr $MS $MC 60)
xf "to the static MS in VLAN 20: U only, tagged" 2 "$h" "5=$(tg "$h" 20)"
h=$(fr $MS $MA 61)
xf "to MS in VLAN 10 (unknown there): flooded in VLAN 10" 0 "$h" \
	1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
ctl fdb flush vlan 10
check_eq "fdb after flush vlan 10: no VLAN 10 entries" "" \
	"$(ctlj fdb show | ts_jq "fdb show, VLAN 10" -r \
		'.[] | select(.vlan == 10) | .mac')"
check_json "fdb after flush vlan 10: VLAN 20 entries kept" \
	"$(ctlj fdb show)" "any(.[]; .mac == \"$MM\" and .vlan == 20) and
			    any(.[]; .mac == \"$MS\" and .vlan == 20)"
ctl fdb del $MS dev "$HY" vlan 20
# Without "vlan", while filtering: one entry in every VLAN of the port, as
# Linux's bridge fdb add (which adds a VLAN-less one as well).
ctl fdb add $MS dev "$HY" static
check_eq "fdb add without vlan: U's VLANs" "1 10 20" \
	"$(ctlj fdb show | jq -r --arg m $MS \
		'[.[] | select(.mac == $m and .vlan != null) | .vlan] | sort | map(tostring) | join(" ")')"
h=$(fr $MS $MA 62)
xf "to MS in VLAN 10 now: U only, tagged" 0 "$h" "5=$(tg "$h" 10)"
ctl fdb del $MS dev "$HY"
check_eq "fdb del without vlan: all gone" "" "$(fdb_port $MS)"
ok "static entries and flush per VLAN"

# ------------------------------------------------------ reorder_hdr

ctl port set "$SN" reorder_hdr on
check_eq "$SN reorder_hdr after on" true "$(port_field "$SN" reorder_hdr)"
h=$(tg "$(fr $BC $MT 70)" 20 3)
xf "reorder_hdr on: S gets it stripped" 3 "$h" \
	"2=$(strip "$h")" "4=$(strip "$h")" 5
ctl port set "$SN" reorder_hdr off
check_eq "$SN reorder_hdr after off" false "$(port_field "$SN" reorder_hdr)"
xf "reorder_hdr off again: S gets the tag" 3 "$h" "2=$(strip "$h")" 4 5
# reorder_hdr off changes nothing on a tagged membership.
ctl port set "$HY" reorder_hdr off
xf "reorder_hdr off on a tagged port: still tagged once" 3 "$h" \
	"2=$(strip "$h")" 4 5
ctl port set "$HY" reorder_hdr on
ok "reorder_hdr off keeps the tag on an untagged membership"

# ---------------------------------------------------------- PCP maps

ctl port set "$TR" ingress_qos_map 3:5 6:1
check_json "$TR ingress_qos_map" "$(ctlj port show dev "$TR")" \
	'.[0].ingress_qos_map == ["3:5", "6:1"]'
h=$(fr $BC $MT 80)
xf "ingress map 3:5 on T: PCP 3 in, 5 on U" 3 "$(tg "$h" 10 3)" \
	"0=$h" "1=$h" "5=$(tg "$h" 10 5)"
xf "ingress map 6:1 on T: PCP 6 in, 1 on U" 3 "$(tg "$h" 10 6)" \
	"0=$h" "1=$h" "5=$(tg "$h" 10 1)"
xf "ingress map: PCP 4 (not in the map) unchanged" 3 "$(tg "$h" 10 4)" \
	"0=$h" "1=$h" "5=$(tg "$h" 10 4)"
ctl port set "$HY" egress_qos_map 5:7 0:2
check_json "$HY egress_qos_map" "$(ctlj port show dev "$HY")" \
	'.[0].egress_qos_map == ["0:2", "5:7"] or .[0].egress_qos_map == ["5:7", "0:2"]'
xf "ingress 3:5 on T, then egress 5:7 on U" 3 "$(tg "$h" 10 3)" \
	"0=$h" "1=$h" "5=$(tg "$h" 10 7)"
h=$(fr $BC $MA 81)
xf "untagged from A10a (PCP 0): egress map 0:2 on U, none on T" 0 "$h" \
	1 "3=$(tg "$h" 10 0)" "5=$(tg "$h" 10 2)"
# Identity entries put a map back to "none" (README: identity default).
ctl port set "$TR" ingress_qos_map 3:3 6:6
ctl port set "$HY" egress_qos_map 5:5 0:0
check_json "maps cleared" "$(ctlj port show)" \
	'all(.[]; .ingress_qos_map == [] and .egress_qos_map == [])'
h=$(fr $BC $MT 83)
xf "maps cleared: PCP 3 travels as 3" 3 "$(tg "$h" 10 3)" \
	"0=$h" "1=$h" "5=$(tg "$h" 10 3)"
ok "ingress_qos_map and egress_qos_map rewrite the PCP"

# ------------------------------------------------------- 802.1ad mode

ctl set vlan_protocol 802.1ad
check_eq "vlan_protocol" 802.1ad "$(sw_field vlan_protocol)"
h=$(fr $BC $MT 90)
xf "802.1ad: S-tag 10 from T, stripped on A10*, kept on U" 3 \
	"$(tg "$h" 10 2 0 88a8)" "0=$h" "1=$h" "5=$(tg "$h" 10 2 0 88a8)"
c=$(tg "$(fr $BC $MA 91)" 30 4 0 8100)
xf "802.1ad: a C-tagged frame on A10a is untagged to the switch (VLAN 10)" \
	0 "$c" 1 "3=$(tg "$c" 10 0 0 88a8)" "5=$(tg "$c" 10 0 0 88a8)"
stats_save
xf "802.1ad: a C-tag 10 on T is no S-tag: untagged, no PVID, dropped" 3 \
	"$(tg "$(fr $BC $MT 92)" 10 0 0 8100)"
check_delta "$TR" drop_vlan 1
c=$(tg "$(fr $BC $MU 93)" 20 0 0 8100)
xf "802.1ad: a C-tag 20 on U is untagged: U's PVID 1, alone there" 5 "$c"
ctl set vlan_protocol 802.1Q
check_eq "vlan_protocol back" 802.1Q "$(sw_field vlan_protocol)"
c=$(tg "$(fr $BC $MA 94)" 30 0 0 88a8)
xf "802.1Q: an S-tagged frame on A10a is untagged (VLAN 10), keeps its S-tag" \
	0 "$c" 1 "3=$(tg "$c" 10)" "5=$(tg "$c" 10)"
stats_save
xf "802.1Q: an S-tag 10 on T is untagged there: no PVID, dropped" 3 \
	"$(tg "$(fr $BC $MT 95)" 10 0 0 88a8)"
check_delta "$TR" drop_vlan 1
ok "802.1ad mode: the S-tag is the switch's, the C-tag is payload"

# ---------------------------------------------------- control errors

before_v=$(ctlj vlan show)
before_p=$(ctlj port show)
before_s=$(ctlj show)
for vid in 0 4095 4096 abc -1 10x ""; do
	ctl_err "vid \"$vid\"" vlan add dev "$HY" vid "$vid"
done
ctl_err "vid range ending at 4095" vlan add dev "$HY" vid 4000-4095
ctl_err "vid range 0-5" vlan add dev "$HY" vid 0-5
ctl_err "reversed vid range" vlan add dev "$HY" vid 30-20
ctl_err "pvid on a range" vlan add dev "$HY" vid 30-32 pvid
ctl_err "pvid on a range, untagged" vlan add dev "$HY" vid 30-32 pvid untagged
ctl_err "unknown port" vlan add dev "${TS_ID}zz" vid 30
ctl_err "unknown port (del)" vlan del dev "${TS_ID}zz" vid 10
ctl_err "vlan add without dev" vlan add vid 30
ctl_err "vlan add without vid" vlan add dev "$HY"
ctl_err "vlan add, unknown word" vlan add dev "$HY" vid 30 bogus
ctl_err "vlan del vid 4095" vlan del dev "$HY" vid 4095
ctl_err "vlan show of an unknown port" vlan show dev "${TS_ID}zz"
ctl_err "vlan_filtering 2" set vlan_filtering 2
ctl_err "vlan_protocol 802.1x" set vlan_protocol 802.1x
ctl_err "default_pvid 4095" set default_pvid 4095
ctl_err "default_pvid abc" set default_pvid abc
ctl_err "a good and a bad setting: neither applied" \
	set vlan_protocol 802.1ad vlan_filtering 7
ctl_err "reorder_hdr maybe" port set "$HY" reorder_hdr maybe
ctl_err "ingress_qos_map 8:1" port set "$HY" ingress_qos_map 8:1
ctl_err "egress_qos_map 1:8" port set "$HY" egress_qos_map 1:8
ctl_err "egress_qos_map 1-2" port set "$HY" egress_qos_map 1-2
ctl_err "a good map and a bad one: neither applied" \
	port set "$HY" ingress_qos_map 1:2 9:9
ctl_err "reorder_hdr off and a bad map: neither applied" \
	port set "$HY" reorder_hdr off egress_qos_map 1:x
ctl_err "port set of an unknown port" port set "${TS_ID}zz" reorder_hdr off
ctl_err "fdb add vlan 4095" fdb add $MS dev "$HY" vlan 4095
ctl_err "fdb add vlan 0" fdb add $MS dev "$HY" vlan 0
# Linux: "FDB entry with unconfigured vlan" (br_fdb_add(), EINVAL).
ctl_err "fdb add, a VLAN the port is not in" fdb add $MS dev "$HY" vlan 30
check_eq "no entry for $MS after the failed fdb adds" "" "$(fdb_port $MS)"
ctl_may_fail fdb del $MS dev "$HY" vlan 30 >/dev/null 2>&1 || true
check_eq "vlan show unchanged by the failed commands" "$before_v" \
	"$(ctlj vlan show)"
check_eq "port show unchanged by the failed commands" "$before_p" \
	"$(ctlj port show)"
check_eq "show unchanged by the failed commands" "$before_s" "$(ctlj show)"
h=$(fr $BC $MA 100)
xf "still forwarding after the errors" 0 "$h" \
	1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
ok "invalid VIDs, pvid on a range, unknown ports: Error, nothing changed"

# ------------------------------------------- ranges add and delete

ctl vlan add dev "$HY" vid 100-103
check_json "range added" "$(ctlj vlan show dev "$HY")" \
	'[.[0].vlans[].vlan] == [1, 10, 20, 100, 101, 102, 103] and
	 all(.[0].vlans[] | select(.vlan >= 100); has("flags") | not)'
ctl vlan del dev "$HY" vid 101-102
check_json "range deleted" "$(ctlj vlan show dev "$HY")" \
	'[.[0].vlans[].vlan] == [1, 10, 20, 100, 103]'
ctl vlan del dev "$HY" vid 100
ctl vlan del dev "$HY" vid 103
ok "ranges"

# --------------------------------------------- deleting the PVID VLAN

# U: VLAN 1 was its PVID.  Deleted, U has none: untagged and
# priority-tagged frames from it are dropped, tagged ones still pass.
h=$(fr $BC $MB 110)
xf "MB learned on A10b" 1 "$h" 0 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
ctl vlan del dev "$HY" vid 1
check_json "U without VLAN 1 has no PVID" "$(ctlj vlan show dev "$HY")" \
	'.[0].vlans == [{"vlan": 10}, {"vlan": 20}]'
stats_save
xf "untagged from U without a PVID" 5 "$(fr $BC $MU 111)"
xf "priority-tagged from U without a PVID" 5 "$(tg "$(fr $BC $MU 112)" 0 2)"
check_delta "$HY" drop_vlan 2
h=$(tg "$(fr $BC $MU 113)" 10)
xf "tagged 10 from U still forwarded" 5 "$h" \
	"0=$(strip "$h")" "1=$(strip "$h")" 3
# A10b: its only VLAN, 10, the PVID.  Its entries in VLAN 10 go with it.
check_eq "MB in the fdb before vlan del" "$A10B" "$(fdb_port $MB)"
ctl vlan del dev "$A10B" vid 10
check_json "A10b without VLANs" "$(ctlj vlan show)" \
	"[.[] | select(.ifname == \"$A10B\") | .vlans[]] == []"
check_eq "MB forgotten with A10b's VLAN 10" "" "$(fdb_port $MB)"
stats_save
xf "untagged from A10b without a PVID" 1 "$(fr $BC $MB 114)"
xf "tagged 10 from A10b, no longer a member" 1 "$(tg "$(fr $BC $MB 115)" 10)"
check_delta "$A10B" drop_vlan 2
h=$(fr $BC $MA 116)
xf "VLAN 10 floods no longer reach A10b" 0 "$h" \
	"3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
ctl vlan add dev "$A10B" vid 10 pvid untagged
ctl vlan add dev "$HY" vid 1 pvid untagged
xf "A10b back in VLAN 10" 0 "$h" 1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
ok "deleting the PVID VLAN leaves no PVID: untagged frames dropped"

# ------------------------------------------------ per-VLAN counters

vstats_save
stats_save
h=$(fr $BC $MA 120 60)
xf "counted: broadcast 60 bytes from A10a" 0 "$h" \
	1 "3=$(tg "$h" 10)" "5=$(tg "$h" 10)"
h=$(tg "$(fr $MA $MT 121 96)" 10 1)
xf "counted: 100 bytes tagged 10 from T to MA" 3 "$h" "0=$(strip "$h")"
h=$(tg "$(fr $BC $MT 122 200)" 20)
xf "counted: 204 bytes tagged 20 from T" 3 "$h" \
	"2=$(strip "$h")" 4 5
xf "counted: not at all, tagged 30 from T" 3 \
	"$(tg "$(fr $BC $MT 123 300)" 30)"
h=$(tg "$(fr $BC $MC 124 70)" 0 4)
xf "counted: 74 bytes priority-tagged from A20" 2 "$h" \
	"3=$(tg "$(fr $BC $MC 124 70)" 20 4)" \
	"4=$(tg "$(fr $BC $MC 124 70)" 20 4)" \
	"5=$(tg "$(fr $BC $MC 124 70)" 20 4)"
check_vdelta "$A10A" 10 "1 60 1 96"
check_vdelta "$A10B" 10 "0 0 1 60"
check_vdelta "$TR" 10 "1 100 1 64"
check_vdelta "$HY" 10 "0 0 1 64"
check_vdelta "$A20" 20 "1 74 1 200"
check_vdelta "$TR" 20 "1 204 1 74"
check_vdelta "$SN" 20 "0 0 2 278"
check_vdelta "$HY" 20 "0 0 2 278"
check_vdelta "$HY" 1 "0 0 0 0"
check_delta "$TR" rx_packets 3
check_delta "$TR" rx_bytes 608
check_delta "$TR" drop_vlan 1
check_json "-s vlan show: every VLAN object has the four counters" \
	"$(ctlj -s vlan show)" \
	'all(.[].vlans[]; .stats | keys == ["rx_bytes", "rx_packets", "tx_bytes", "tx_packets"])'
check_json "vlan show without -s has no counters" "$(ctlj vlan show)" \
	'all(.[].vlans[]; has("stats") | not)'
ok "-s vlan show counts per port and VLAN, exactly"

# ---------------------------------------------------------- ping

# All four hosts in one subnet: only the VLANs can keep them apart.
ip -n "${HOSTS[0]}" addr add 198.18.0.1/24 dev "$A10A"
ip -n "${HOSTS[1]}" addr add 198.18.0.2/24 dev "$A10B"
ip -n "${HOSTS[2]}" addr add 198.18.0.3/24 dev "$A20"
ip -n "${HOSTS[5]}" addr add 198.18.0.6/24 dev "$HY"
rc=0
ip netns exec "${HOSTS[0]}" timeout 10 ping -q -c 2 -i 0.2 -W 2 198.18.0.2 \
	>"$TS_TMP/ping" 2>&1 || rc=$?
check_eq "ping A10a -> A10b (both VLAN 10) exit status" 0 "$rc"
rc=0
ip netns exec "${HOSTS[0]}" timeout 10 ping -q -c 2 -i 0.2 -W 1 198.18.0.3 \
	>"$TS_TMP/ping" 2>&1 || rc=$?
check_eq "ping A10a -> A20 (VLAN 10 to VLAN 20) fails" 1 "$rc"
rc=0
ip netns exec "${HOSTS[5]}" timeout 10 ping -q -c 2 -i 0.2 -W 1 198.18.0.1 \
	>"$TS_TMP/ping" 2>&1 || rc=$?
check_eq "ping U (VLAN 1 untagged) -> A10a (VLAN 10) fails" 1 "$rc"
check_json "fdb: A10a and A10b learned in VLAN 10 by the ping" \
	"$(ctlj fdb show)" "
	any(.[]; .ifname == \"$A10A\" and .vlan == 10) and
	any(.[]; .ifname == \"$A10B\" and .vlan == 10)"
ok "ping within VLAN 10 works, across VLANs not"

daemon_alive || fail "tapswitch died"
ts_done
