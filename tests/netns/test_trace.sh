#!/bin/bash
#
# test_trace.sh - the live decision trace (`tapswitchctl -j trace`, JSON
# Lines) and explain (`tapswitchctl -j explain`), with real frames:
#
#  - per frame: ingress port, length, src/dst, learn result (new,
#    refreshed, moved from X), lookup (broadcast, multicast, miss, hit X,
#    link-local), verdict, drop reason (same-port, source, link-local,
#    vlan, bad-tag, egress-down, no-egress; runt and port-down through
#    explain) and the egress list, which must name exactly the ports
#    whose hosts received the frame (pktio says who);
#  - VLANs: vlan_in, vlan, pcp, and the tag action per egress port;
#  - dev and vlan select frames; count N ends the trace after N frames,
#    not before;
#  - explain answers for a frame without learning or sending it (the
#    table and every counter unchanged, nothing arrives anywhere), the
#    same as the trace says when the frame is then really sent; pcap PATH
#    explains every frame of a capture file (also one of more frames
#    than it takes at once, or it says so); bad arguments are errors.
#
#     h0 (A)       h1 (B)       h2 (C)        host namespaces
#    tsXt0        tsXt1        tsXt2
#      |            |            |
#      +------- tapswitch -------+
#
# A runt (< 14 bytes) cannot be sent through a tap (the kernel refuses
# it, see test_forwarding.sh): it is explained, not traced.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v ss >/dev/null 2>&1 || skip "no ss"
command -v tshark >/dev/null 2>&1 || skip "no tshark"
command -v text2pcap >/dev/null 2>&1 || skip "no text2pcap"
trap cleanup_bg EXIT

hosts_setup 3
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]}
A=02:00:00:00:00:0a	# on h0
B=02:00:00:00:00:0b	# on h1
C=02:00:00:00:00:0c	# on h2
D=02:00:00:00:00:0d	# new, for explain
U=02:00:00:00:99:99	# never sends: unknown unicast
BC=ff:ff:ff:ff:ff:ff
MC=01:00:5e:00:00:01

# tg HEX VID [PCP]: HEX with an 802.1Q tag after the MACs.
tg() { printf '%s8100%04x%s' "${1:0:24}" $((${3:-0} << 13 | $2)) "${1:24}"; }

# snd IN HEX: send HEX on pktio interface IN; note who received it
# (RECV[k]: sorted tap names) and what (GOT[k]: "J=HEX" words).
RECV=()
GOT=()
snd()
{
	local out line names=() gots=()
	out=$(printf 'send %s %s\n' "$1" "$2" | pkt_run)
	while read -r line; do
		case $line in
		rx\ *)
			# shellcheck disable=SC2086 # split into its words
			set -- $line
			names+=("${TAPS[$2]}")
			gots+=("$2=$3")
			;;
		esac
	done <<<"$out"
	RECV+=("$(sorted "${names[@]}")")
	GOT+=("${gots[*]}")
}

# rec_of FILE K: the K-th (0-based) JSON line of FILE, or null (never
# nothing: jq -e passes on empty input).
rec_of() { ts_jq "trace record $2 of ${1##*/}" -c -s ".[$2]" "$1"; }

# check_rec WHAT FILE K JQ: record K satisfies JQ.
check_rec() { check_json "$1 (trace record $3)" "$(rec_of "$2" "$3")" "$4"; }

# check_egress FILE K: record K's egress names exactly the taps whose
# hosts received frame K (RECV[K]), tag actions stripped.
check_egress()
{
	local eg
	eg=$(rec_of "$1" "$2" | ts_jq "trace record $2: egress" -r \
		'.egress // [] | map(sub(":.*$"; "")) | .[]' |
		LC_ALL=C sort | paste -sd ' ' -)
	check_eq "trace record $2: egress = the ports that delivered it" \
		"${RECV[$2]}" "$eg"
}

# --------------------------------------------- every kind of decision
stream_start "$TS_TMP/all" -j trace count 11
TR_ALL=$STREAM_PID
stream_start "$TS_TMP/t1" -j trace dev "$T1" count 2
TR_T1=$STREAM_PID

snd 0 "$(frame $BC $A 1)"			# 0: new, broadcast
snd 1 "$(frame $A $B 2)"			# 1: new, hit t0
snd 0 "$(frame $B $A 3 100)"			# 2: refreshed, hit t1
snd 2 "$(frame $U $C 4 61)"			# 3: new, miss
snd 2 "$(frame $MC $C 5)"			# 4: multicast
snd 0 "$(frame $A $A 6)"			# 5: same-port
snd 0 "$(frame $B 01:00:5e:00:00:09 7)"		# 6: multicast source
snd 2 "$(frame $B $A 8)"			# 7: A moves to t2
snd 1 "$(frame 01:80:c2:00:00:02 $B 9)"		# 8: link-local, dropped
snd 1 "$(frame 01:80:c2:00:00:00 $B 10)"	# 9: a BPDU: forwarded
snd 2 "$(frame $B 00:00:00:00:00:00 11)"	# 10: all-zero source
stream_wait "$TR_ALL" 5 || fail "trace count 11 exited $?: $(cat "$TS_TMP/all.err")"
stream_wait "$TR_T1" 5 || fail "trace dev $T1 count 2 exited $?: $(cat "$TS_TMP/t1.err")"
F=$TS_TMP/all
assert_eq "trace count 11: lines" 11 "$(wc -l <"$F")"
check_eq "trace: nothing on stderr" "" "$(cat "$F.err")"
check_json "trace: every line a JSON object with its time" "$(jq -s . "$F")" \
	'length == 11 and all(.[]; type == "object" and
	 (.time | test("^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$")))'

check_rec "broadcast from A" "$F" 0 "
	.ifname == \"$T0\" and .len == 60 and .src == \"$A\" and
	.dst == \"$BC\" and .ethertype == \"0x88b5\" and .learn == \"new\" and
	.lookup == \"broadcast\" and .verdict == \"flood\" and
	(has(\"drop\") | not) and (has(\"vlan_in\") | not)"
check_rec "B to A" "$F" 1 "
	.ifname == \"$T1\" and .src == \"$B\" and .dst == \"$A\" and
	.learn == \"new\" and .lookup == \"hit\" and
	.lookup_ifname == \"$T0\" and .verdict == \"forward\""
check_rec "A to B, 100 bytes" "$F" 2 "
	.ifname == \"$T0\" and .len == 100 and .learn == \"refreshed\" and
	.lookup == \"hit\" and .lookup_ifname == \"$T1\" and
	.verdict == \"forward\""
check_rec "unknown unicast" "$F" 3 "
	.ifname == \"$T2\" and .len == 61 and .dst == \"$U\" and
	.learn == \"new\" and .lookup == \"miss\" and .verdict == \"flood\" and
	(has(\"lookup_ifname\") | not)"
check_rec "multicast" "$F" 4 "
	.learn == \"refreshed\" and .lookup == \"multicast\" and
	.verdict == \"flood\""
check_rec "to its own port" "$F" 5 "
	.ifname == \"$T0\" and .lookup == \"hit\" and
	.lookup_ifname == \"$T0\" and .verdict == \"drop\" and
	.drop == \"same-port\" and .egress == []"
check_rec "multicast source" "$F" 6 "
	.src == \"01:00:5e:00:00:09\" and .verdict == \"drop\" and
	.drop == \"source\" and (has(\"learn\") | not) and
	(has(\"lookup\") | not) and .egress == []"
check_rec "A seen on t2" "$F" 7 "
	.ifname == \"$T2\" and .learn == \"moved\" and
	.learn_from == \"$T0\" and .lookup == \"hit\" and
	.lookup_ifname == \"$T1\" and .verdict == \"forward\""
check_rec "link-local group 2" "$F" 8 "
	.dst == \"01:80:c2:00:00:02\" and .verdict == \"drop\" and
	.drop == \"link-local\" and .egress == []"
check_rec "BPDU" "$F" 9 "
	.dst == \"01:80:c2:00:00:00\" and .lookup == \"link-local\" and
	.verdict == \"flood\""
check_rec "all-zero source" "$F" 10 "
	.src == \"00:00:00:00:00:00\" and .verdict == \"drop\" and
	.drop == \"source\" and .egress == []"
for ((k = 0; k < 11; k++)); do
	check_egress "$F" "$k"
done
ok "trace: learn, lookup, verdict, drop reasons; egress = who received it"

# dev selects: t1's two frames only, in order.
check_eq "trace dev $T1: lines" 2 "$(wc -l <"$TS_TMP/t1")"
check_json "trace dev $T1: only frames from $T1" "$(jq -s . "$TS_TMP/t1")" \
	"length == 2 and all(.[]; .ifname == \"$T1\") and
	 .[0].dst == \"$A\" and .[1].dst == \"01:80:c2:00:00:02\""
# ... and selects before counting: the frames of other ports did not use
# up its count (it ended with t1's frames 1 and 8).
ok "trace dev selects"

# ------------------------------------- count N: ends after N, not before
stream_start "$TS_TMP/cnt" -j trace count 2
P=$STREAM_PID
sleep 1
pid_alive "$P" || fail "trace count 2 ended with no traffic at all"
check_eq "trace count 2 with no traffic: lines" 0 "$(wc -l <"$TS_TMP/cnt")"
snd 1 "$(frame $A $B 21)"
sleep 0.5
pid_alive "$P" || check_eq "trace count 2 after one frame" running ended
check_eq "trace count 2 after one frame: lines" 1 "$(wc -l <"$TS_TMP/cnt")"
snd 1 "$(frame $A $B 22)"
stream_wait "$P" 5 || check_eq "trace count 2: exit status" 0 "$?"
check_eq "trace count 2: lines" 2 "$(wc -l <"$TS_TMP/cnt")"
stream_released "$P"
ok "trace count 2 waits for its two frames, then ends"

# ------------------------------------------------------------- explain
# state: the table without ages; every port's counters.
state()
{
	ctlj fdb show | ts_jq "state: fdb" -c 'map(del(.age))'
	ctlj -s port show | ts_jq "state: ports" -c 'map({ifname, stats})'
	ctlj -s show | ts_jq "state: switch" -c '.stats'
}

# ex_vs_trace WHAT IN HEX: explain HEX on port IN (an index) - nothing
# learned, counted or sent - then send it for real under a trace: the two
# answers must be the same but for the time.
ex_vs_trace()
{
	local what=$1 in=$2 hex=$3 before after ex tr got
	before=$(state)
	# Every host listens while the switch explains (pktio has its
	# sockets open well within the first 300 ms).
	printf 'wait 800\n' | pkt_run >"$TS_TMP/quiet" &
	local q=$!
	bg_track "$q"
	sleep 0.3
	ex=$(ctlj explain dev "${TAPS[$in]}" frame "$hex")
	wait "$q" || fail "pktio (listening during explain) failed"
	check_eq "explain $what: nothing arrives anywhere" "." "$(cat "$TS_TMP/quiet")"
	after=$(state)
	check_eq "explain $what: table, port and switch counters unchanged" \
		"$before" "$after"
	check_json "explain $what: one record" "$ex" 'type == "array" and length == 1'
	stream_start "$TS_TMP/ex1" -j trace count 1
	snd "$in" "$hex"
	stream_wait "$STREAM_PID" 5 || fail "trace count 1 for $what: $(cat "$TS_TMP/ex1.err")"
	tr=$(jq -c 'del(.time)' "$TS_TMP/ex1")
	got=$(printf '%s' "$ex" | ts_jq "explain $what" -c '.[0]')
	check_eq "explain $what = the trace of the frame really sent" "$tr" "$got"
	check_eq "explain $what: egress = the ports that delivered it" \
		"${RECV[-1]}" "$(printf '%s' "$got" |
			ts_jq "explain $what: egress" -r '.egress[]' |
			LC_ALL=C sort | paste -sd ' ' -)"
}

ex_vs_trace "a new source to a known MAC" 2 "$(frame $B $D 31)"
check_eq "explained frame: delivered to" "$T1" "${RECV[-1]}"
ex_vs_trace "a broadcast from a new source" 0 "$(frame $BC 02:00:00:00:00:0e 32 80)"
check_eq "explained broadcast: delivered to" "$(sorted "$T1" "$T2")" "${RECV[-1]}"
ex_vs_trace "a MAC that moves" 0 "$(frame $BC $D 33)"
ex_vs_trace "a frame to its own port" 0 "$(frame $D $A 34)"
ex_vs_trace "unknown unicast" 1 "$(frame $U $B 35)"
ex_vs_trace "a multicast source" 1 "$(frame $A 03:00:00:00:00:01 36)"
ex_vs_trace "a full-size frame" 1 "$(frame $A $B 36 1514)"
ok "explain: nothing learned, counted or sent; the same answer as the trace"

# A static entry towards a port that is down: the trace says egress-down,
# and drop_no_egress counts it; explain on the down port says port-down.
M=02:00:00:00:00:ee
ctl fdb add $M dev "$T2"
ip -n "${HOSTS[2]}" link set "$T2" down
wait_port_state "$T2" disabled
stream_start "$TS_TMP/ed" -j trace count 1
stats_save
snd 0 "$(frame $M $A 37)"
stream_wait "$STREAM_PID" 5 || fail "trace count 1: $(cat "$TS_TMP/ed.err")"
check_json "known unicast to a port that is down" "$(rec_of "$TS_TMP/ed" 0)" "
	.lookup == \"hit\" and .lookup_ifname == \"$T2\" and
	.verdict == \"drop\" and .drop == \"egress-down\" and .egress == []"
check_eq "... delivered nowhere" "" "${RECV[-1]}"
check_eq "... counted in drop_no_egress" 1 "$(stat_delta "$T0" drop_no_egress)"
check_json "explain a frame arriving on a port that is down" \
	"$(ctlj explain dev "$T2" frame "$(frame $A $C 38)")" \
	".[0].ifname == \"$T2\" and .[0].verdict == \"drop\" and
	 .[0].drop == \"port-down\" and .[0].egress == []"
ip -n "${HOSTS[2]}" link set "$T2" up
wait_forwarding "$T2"
ctl fdb del $M dev "$T2"
ok "drops egress-down (traced, counted) and port-down (explained)"

# A runt cannot be sent; explain knows what would become of it.
check_json "explain a 13-byte runt" \
	"$(ctlj explain dev "$T0" frame 02000000000b02000000000a88)" \
	".[0].ifname == \"$T0\" and .[0].len == 13 and
	 .[0].verdict == \"drop\" and .[0].drop == \"runt\""

# pcap PATH: every frame of a capture file, one record each, each the same
# as explaining that frame alone.
ctlj capture start dev "$T0" dir rx file "$TS_TMP/ex.pcap" >/dev/null
PX=("$(frame $BC $A 41)" "$(frame $B $A 42 200)" "$(frame $A $A 43)"
	"$(frame $U $A 44 1514)" "$(frame $D 02:00:00:00:00:0f 45)")
for h in "${PX[@]}"; do
	snd 0 "$h"
done
ctl capture stop >/dev/null
n=$(tshark -r "$TS_TMP/ex.pcap" -T fields -e frame.len 2>/dev/null | wc -l)
assert_eq "frames in the capture to explain" "${#PX[@]}" "$n"
before=$(state)
ex=$(ctlj explain dev "$T0" pcap "$TS_TMP/ex.pcap")
check_eq "explain pcap: one record a frame (tshark counts $n)" "$n" \
	"$(printf '%s' "$ex" | jq length)"
one=$(for h in "${PX[@]}"; do ctlj explain dev "$T0" frame "$h" | jq -c '.[0]'; done)
check_eq "explain pcap = explain of each frame alone" "$one" \
	"$(printf '%s' "$ex" | jq -c '.[]')"
check_eq "explain pcap: nothing learned or counted" "$before" "$(state)"
# A relative name is the client's working directory's.
ex2=$(cd "$TS_TMP" && ctlj explain dev "$T0" pcap ex.pcap)
check_eq "explain pcap with a relative name" "$ex" "$ex2"

# A file of more frames than explain takes at once (10005): every one is
# explained, or the answer says that it was cut short.
awk 'BEGIN {
	for (i = 0; i < 10005; i++) {
		printf "000000 02 00 00 00 00 0b 02 00 00 00 00 0a 88 b5"
		printf " %02x %02x %02x %02x", int(i / 16777216) % 256,
			int(i / 65536) % 256, int(i / 256) % 256, i % 256
		for (k = 18; k < 60; k++) printf " 00"
		printf "\n"
	}
}' | text2pcap -q - "$TS_TMP/big.pcap" >/dev/null 2>&1 ||
	fail "text2pcap cannot write big.pcap"
n=$(tshark -r "$TS_TMP/big.pcap" -T fields -e frame.len 2>/dev/null | wc -l)
assert_eq "frames in big.pcap (tshark)" 10005 "$n"
rc=0
# (Either answer is right: ctl_may_fail, judged below.)
ctl_may_fail -j explain dev "$T0" pcap "$TS_TMP/big.pcap" \
	>"$TS_TMP/big.json" 2>"$TS_TMP/big.err" || rc=$?
got=$(jq length "$TS_TMP/big.json" 2>/dev/null || echo "no JSON")
if ! { [ "$rc" = 0 ] && [ "$got" = "$n" ]; } &&
	! { [ -s "$TS_TMP/big.err" ] && [ "$got" != "$n" ]; }; then
	printf 'FAIL: %s
  expected: %s
  got:      %s
' \
		"explain dev $T0 pcap big.pcap ($n frames)" \
		"$n records, or a message that the answer was cut short" \
		"exit $rc, $got records, stderr \"$(cat "$TS_TMP/big.err")\"" >&2
	TS_FAILED=1
fi
ok "explain pcap: every frame of the file"

# Bad arguments: non-zero, one line "Error: ..." on stderr, nothing out.
bad()
{
	local what=$1 rc=0 out err
	shift
	out=$(ctl_may_fail "$@" 2>"$TS_TMP/err") || rc=$?
	err=$(cat "$TS_TMP/err")
	if [ "$rc" = 0 ] || [ -n "$out" ] ||
		[ "$(printf '%s\n' "$err" | wc -l)" != 1 ] ||
		[[ $err != Error:\ * ]]; then
		printf 'FAIL: %s (%s)\n  expected: non-zero, one line "Error: ..." on stderr, nothing on stdout\n  got:      status %s, stdout "%s", stderr "%s"\n' \
			"$*" "$what" "$rc" "$out" "$err" >&2
		TS_FAILED=1
	fi
	return 0
}
HX=$(frame $B $A 51)
bad "odd hex" explain dev "$T0" frame "${HX}0"
bad "not hex" explain dev "$T0" frame "${HX:0:20}zz${HX:22}"
bad "unknown port" explain dev "${TS_ID}zz" frame "$HX"
bad "no port" explain frame "$HX"
bad "missing file" explain dev "$T0" pcap "$TS_TMP/no.pcap"
bad "not a pcap file" explain dev "$T0" pcap "$TS_LOG"
bad "both frame and pcap" explain dev "$T0" frame "$HX" pcap "$TS_TMP/ex.pcap"
bad "neither frame nor pcap" explain dev "$T0"
bad "an unknown word" explain dev "$T0" frame "$HX" sideways
bad "trace: unknown port" trace dev "${TS_ID}zz"
bad "trace: count 0" trace count 0
bad "trace: vlan 4095" trace vlan 4095
bad "trace: an unknown word" trace sideways
bad "trace: dir is not a trace word" trace dir rx
xfer 1 "$(frame $A $B 52)" 0
ok "explain and trace: bad arguments are errors; still forwarding"

# ------------------------------------------------------------- VLANs
#   t0: access, PVID 10 untagged   t1: trunk, 10 tagged, 20 tagged
#   t2: access, PVID 20 untagged, reorder_hdr off (keeps the tag)
# Before filtering: `vlan VID` with filtering off selects by the frame's
# tag, as a capture's `vlan VID` does.
stream_start "$TS_TMP/vt0" -j trace vlan 10 count 1
snd 1 "$(frame $BC $B 60)"
snd 1 "$(tg "$(frame $BC $B 61)" 10)"
for ((i = 0; i < 20; i++)); do
	pid_alive "$STREAM_PID" || break
	sleep 0.1
done
check_json "trace vlan 10 with filtering off: the frame tagged 10" \
	"$(jq -s . "$TS_TMP/vt0")" \
	'length == 1 and .[0].len == 64 and .[0].ethertype == "0x8100"'
if pid_alive "$STREAM_PID"; then
	kill -INT "$STREAM_PID"
	stream_wait "$STREAM_PID" || true
fi

ctl set vlan_filtering 1
ctl vlan add dev "$T0" vid 10 pvid untagged
ctl vlan add dev "$T1" vid 10
ctl vlan add dev "$T1" vid 20
ctl vlan add dev "$T2" vid 20 pvid untagged
ctl port set "$T2" reorder_hdr off
for t in "$T0" "$T1" "$T2"; do ctl vlan del dev "$t" vid 1; done
RECV=()
GOT=()
# On an afpacket port the kernel drops frame 6 (a tag cut short) before
# a packet socket sees it: 6 records there, 7 on taps and afxdp.
NV=7
[ "${TS_PORT_KIND:-tap}" != afpacket ] || NV=6
stream_start "$TS_TMP/v" -j trace count $NV
TR_V=$STREAM_PID
stream_start "$TS_TMP/v10" -j trace vlan 10 count 3
TR_V10=$STREAM_PID
snd 0 "$(frame $BC $A 62)"			# 0: VLAN 10 by PVID
snd 1 "$(tg "$(frame $A $B 63)" 10 5)"		# 1: tagged 10, PCP 5
snd 1 "$(tg "$(frame $BC $B 64)" 20)"		# 2: tagged 20: to t2
snd 2 "$(frame $B $C 65)"			# 3: VLAN 20 by PVID
snd 0 "$(tg "$(frame $B $A 66)" 0 3)"		# 4: priority tag
snd 1 "$(tg "$(frame $A $B 67)" 30)"		# 5: VLAN 30: no member
snd 1 "02000000000a02000000000b8100"		# 6: a tag cut short
stream_wait "$TR_V" 5 || fail "trace count $NV (VLANs): $(cat "$TS_TMP/v.err")"
stream_wait "$TR_V10" 5 || fail "trace vlan 10 count 3: $(cat "$TS_TMP/v10.err")"
F=$TS_TMP/v
check_rec "untagged into access VLAN 10" "$F" 0 "
	.vlan_in == \"untagged\" and .vlan == 10 and .pcp == 0 and
	.learn == \"new\" and .lookup == \"broadcast\" and
	.egress == [\"$T1:tagged\"] and .verdict == \"flood\""
check_rec "tagged 10 from the trunk" "$F" 1 "
	.vlan_in == \"tagged\" and .vlan == 10 and .pcp == 5 and
	.ethertype == \"0x8100\" and .len == 64 and .lookup == \"hit\" and
	.lookup_ifname == \"$T0\" and .egress == [\"$T0:untagged\"]"
check_rec "tagged 20, to an access port with reorder_hdr off" "$F" 2 "
	.vlan == 20 and .egress == [\"$T2:tagged\"] and .verdict == \"flood\""
check_rec "untagged into VLAN 20" "$F" 3 "
	.vlan_in == \"untagged\" and .vlan == 20 and .lookup == \"hit\" and
	.lookup_ifname == \"$T1\" and .egress == [\"$T1:tagged\"]"
check_rec "priority tag" "$F" 4 "
	.vlan_in == \"priority\" and .vlan == 10 and .pcp == 3 and
	.egress == [\"$T1:tagged\"]"
check_rec "VLAN 30 on the trunk" "$F" 5 "
	.vlan_in == \"tagged\" and .vlan == 30 and .verdict == \"drop\" and
	.drop == \"vlan\" and .egress == [] and (has(\"learn\") | not)"
[ "$NV" = 6 ] ||
	check_rec "a 14-byte frame with a tag's TPID" "$F" 6 "
	.len == 14 and .ethertype == \"0x8100\" and .verdict == \"drop\" and
	.drop == \"bad-tag\" and .egress == [] and (has(\"learn\") | not)"
for ((k = 0; k < NV; k++)); do
	check_egress "$F" "$k"
done
# The tag action agrees with what arrived: tagged where the receiver got
# a tag (8100 after the MACs), untagged where it did not.
for ((k = 0; k < 6; k++)); do
	want=$(for g in ${GOT[k]}; do
		j=${g%%=*} h=${g#*=}
		if [ "${h:24:4}" = 8100 ]; then a=tagged; else a=untagged; fi
		echo "${TAPS[j]}:$a"
	done | LC_ALL=C sort | paste -sd ' ' -)
	check_eq "trace record $k: tag actions = what arrived" "$want" \
		"$(rec_of "$F" "$k" | jq -r '.egress[]' | LC_ALL=C sort | paste -sd ' ' -)"
done
check_json "trace vlan 10: VLAN 10's frames only" "$(jq -s . "$TS_TMP/v10")" \
	'length == 3 and all(.[]; .vlan == 10) and
	 map(.vlan_in) == ["untagged", "tagged", "priority"]'
ok "trace with VLANs: classification, tag action per port, vlan selects"

# A flood with nobody to take it: t2 alone in VLAN 20 after t1 leaves.
ctl vlan del dev "$T1" vid 20
stream_start "$TS_TMP/ne" -j trace count 1
snd 2 "$(frame $BC $C 70)"
stream_wait "$STREAM_PID" 5 || fail "trace count 1: $(cat "$TS_TMP/ne.err")"
check_json "a flood with no egress port" "$(rec_of "$TS_TMP/ne" 0)" \
	'.lookup == "broadcast" and .verdict == "drop" and
	 .drop == "no-egress" and .egress == []'
check_eq "... delivered nowhere" "" "${RECV[-1]}"
ok "drop no-egress"

daemon_alive || fail "tapswitch died"
ts_done
