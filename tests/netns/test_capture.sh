#!/bin/bash
#
# test_capture.sh - pcap captures of real frames, read back with tshark:
# the exact frames and bytes per port and direction, all ports into one
# file, several captures at once, capture stop by port, id or all,
# count N ending a capture by itself, snaplen, timestamps (the frame's
# own, close to now, in file order - also with two poll threads writing
# into one capture), a relative file name, bad arguments, TCP super-frames
# captured whole (and, with offloads off, the segments the switch cut),
# and VLAN captures (vlan VID, tags inline as on the wire of that port).
# The writer that cannot keep up is in test_capture_slow.sh; a capture of
# a port that is deleted, in test_streams.sh.
#
#     h0 (A)       h1 (B)       h2 (C)        host namespaces
#    tsXt0        tsXt1        tsXt2          taps, moved in
#      |            |            |
#      +------- tapswitch -------+
#
# Every frame is sent with pktio and its delivery asserted (xfer), so
# what each capture must hold follows from what really went through.
# Content checks report and go on (check_*), so that one run lists every
# mismatch.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v tshark >/dev/null 2>&1 || skip "no tshark"
command -v ss >/dev/null 2>&1 || skip "no ss"
trap cleanup_bg EXIT

hosts_setup 3
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]}
A=02:00:00:00:00:0a	# on h0
B=02:00:00:00:00:0b	# on h1
C=02:00:00:00:00:0c	# on h2
BC=ff:ff:ff:ff:ff:ff
SNAP_DEFAULT=262144	# as tcpdump's

# rec HEX [SNAPLEN]: the line pcap_frames must give for HEX, without the
# time: "LEN CAPLEN BYTES".
rec()
{
	local n=$((${#1} / 2)) s=${2:-$SNAP_DEFAULT} c
	c=$((n < s ? n : s))
	printf '%s %s %s\n' "$n" "$c" "${1:0:$((c * 2))}"
}

# check_pcap WHAT FILE EXPECTED: FILE holds exactly the frames EXPECTED
# (lines of rec), in that order.
check_pcap()
{
	local got
	got=$(pcap_frames "$2" | awk '{ print $1, $2, $4 }')
	if [ "$got" != "$(printf '%s' "$3")" ]; then
		printf 'FAIL: %s: the frames in %s\n  expected:\n%s\n  got:\n%s\n' \
			"$1" "${2##*/}" "$(printf '%s\n' "$3" | sed 's/^/    /')" \
			"$(printf '%s\n' "$got" | sed 's/^/    /')" >&2
		TS_FAILED=1
	fi
	return 0
}

# cap_start ARGS...: capture start with -j, must succeed; sets CAP (its
# JSON record) and CAP_ID.
cap_start()
{
	CAP=$(ctlj capture start "$@" | ts_jq "capture start $*" -c '.[0]')
	CAP_ID=$(printf '%s' "$CAP" | ts_jq "capture start $*" -r .id)
	[[ $CAP_ID =~ ^[0-9]+$ ]] || fail "capture start $*: no id in $CAP"
}

# cap_json ID: the record of capture ID in `-j -s capture show`, or null.
cap_json()
{
	# shellcheck disable=SC2016 # jq variables, not shell ones
	ctlj -s capture show |
		ts_jq "cap_json $1" -c --argjson i "$1" 'map(select(.id == $i)) | first'
}

# --------------------------------------------- directions, exact bytes
F1=$(frame $BC $A 1)		# h0 floods: rx t0, tx t1 and t2
F2=$(frame $A $B 2 100)		# h1 -> A: rx t1, tx t0
F3=$(frame $B $A 3 1514)	# h0 -> B: rx t0, tx t1
F4=$(frame $A $C 4 61)		# h2 -> A: rx t2, tx t0
F5=$(frame $A $A 5)		# h0 -> A, on A's own port: rx t0, dropped

cap_start dev "$T0" dir rx file "$TS_TMP/rx0.pcap"
ID_RX0=$CAP_ID
assert_json "capture start answers with its record" "$CAP" \
	".ifname == \"$T0\" and .dir == \"rx\" and
	 .file == \"$TS_TMP/rx0.pcap\" and .snaplen == 262144 and
	 .count == 0 and .state == \"running\" and (has(\"vlan\") | not)"
cap_start dev "$T1" dir tx file "$TS_TMP/tx1.pcap"
ID_TX1=$CAP_ID
cap_start dev "$T2" file "$TS_TMP/both2.pcap"
ID_BOTH2=$CAP_ID
assert_eq "dir defaults to" both "$(printf '%s' "$CAP" | jq -r .dir)"
cap_start file "$TS_TMP/all.pcap"
ID_ALL=$CAP_ID
assert_eq "a capture of every port is listed as" all \
	"$(printf '%s' "$CAP" | jq -r .ifname)"
cap_start dev "$T1" count 2 file "$TS_TMP/cnt.pcap"
ID_CNT=$CAP_ID
cap_start dev "$T0" snaplen 20 file "$TS_TMP/snap.pcap"
ID_SNAP=$CAP_ID
assert_eq "snaplen as given" 20 "$(printf '%s' "$CAP" | jq -r .snaplen)"
ids=$(ctlj capture show | jq -r 'map(.id) | sort | map(tostring) | join(" ")')
assert_eq "capture show lists the six captures" \
	"$(printf '%s\n' "$ID_RX0" "$ID_TX1" "$ID_BOTH2" "$ID_ALL" "$ID_CNT" \
		"$ID_SNAP" | sort -n | paste -sd ' ' -)" "$ids"
assert_json "every capture is running, nothing caught yet" \
	"$(ctlj -s capture show)" \
	'all(.[]; .state == "running" and .stats.frames == 0 and
	          .stats.bytes == 0 and .stats.dropped == 0)'

T_START=$(date +%s.%N)
stats_save
xfer 0 "$F1" 1 2
xfer 1 "$F2" 0
xfer 0 "$F3" 1
xfer 2 "$F4" 0
xfer 0 "$F5"
T_END=$(date +%s.%N)
assert_delta "$T0" drop_same_port 1
# Records are written within OBS_POLL_MS; allow a moment.
for ((i = 0; i < 50; i++)); do
	[ "$(cap_json "$ID_ALL" | jq .stats.frames)" = 10 ] && break
	sleep 0.1
done

S=$(ctlj -s capture show)
check_json "rx0: 3 frames, their bytes" "$S" \
	"map(select(.id == $ID_RX0)) | first | .state == \"running\" and
	 .stats.frames == 3 and .stats.bytes == (60 + 1514 + 60) and
	 .stats.dropped == 0"
check_json "tx1: 2 frames" "$S" \
	"map(select(.id == $ID_TX1)) | first | .stats.frames == 2 and
	 .stats.bytes == (60 + 1514)"
check_json "both2: 2 frames" "$S" \
	"map(select(.id == $ID_BOTH2)) | first | .stats.frames == 2 and
	 .stats.bytes == (60 + 61)"
check_json "all: 10 frames" "$S" \
	"map(select(.id == $ID_ALL)) | first | .stats.frames == 10 and
	 .stats.bytes == (3 * 60 + 2 * 100 + 2 * 1514 + 2 * 61 + 60)"
check_json "cnt (count 2): done by itself after 2 frames" "$S" \
	"map(select(.id == $ID_CNT)) | first | .state == \"done\" and
	 .count == 2 and .stats.frames == 2 and .stats.bytes == 160"
check_json "snap: 5 frames, bytes counted whole" "$S" \
	"map(select(.id == $ID_SNAP)) | first | .stats.frames == 5 and
	 .stats.bytes == (60 + 100 + 1514 + 61 + 60)"
check_json "-s: counters only with -s" "$(ctlj capture show)" \
	'all(.[]; has("stats") | not)'
ok "capture show: states and counters"

# Stopping: by port (both of t0's), by id, then the rest at once.
out=$(ctlj -s capture stop dev "$T0")
check_eq "capture stop dev $T0 stops its two captures" \
	"$(sorted "$ID_RX0" "$ID_SNAP")" \
	"$(printf '%s' "$out" | jq -r 'map(.id | tostring) | .[]' | LC_ALL=C sort | paste -sd ' ' -)"
check_json "a stopped capture says so, with its counters" "$out" \
	'all(.[]; .state == "stopped" and .stats.frames > 0)'
out=$(ctlj capture stop id "$ID_CNT")
check_json "capture stop id: the finished capture, done" "$out" \
	"length == 1 and .[0].id == $ID_CNT and .[0].state == \"done\""
ctl capture stop >/dev/null || fail "capture stop (all)"
assert_eq "nothing listed after stop" "[]" "$(ctlj capture show | jq -c .)"
ok "capture stop dev / id / all"

check_pcap "t0 rx" "$TS_TMP/rx0.pcap" "$(rec "$F1"; rec "$F3"; rec "$F5")"
check_pcap "t1 tx" "$TS_TMP/tx1.pcap" "$(rec "$F1"; rec "$F3")"
check_pcap "t2 both" "$TS_TMP/both2.pcap" "$(rec "$F1"; rec "$F4")"
# rx on the ingress port comes before the copies it makes.
check_pcap "every port" "$TS_TMP/all.pcap" "$(
	rec "$F1"; rec "$F1"; rec "$F1"
	rec "$F2"; rec "$F2"
	rec "$F3"; rec "$F3"
	rec "$F4"; rec "$F4"
	rec "$F5")"
check_pcap "count 2" "$TS_TMP/cnt.pcap" "$(rec "$F1"; rec "$F2")"
check_pcap "snaplen 20" "$TS_TMP/snap.pcap" "$(
	rec "$F1" 20; rec "$F2" 20; rec "$F3" 20; rec "$F4" 20; rec "$F5" 20)"
check_eq "link type of the files (tshark frame.encap_type)" 1 \
	"$(tshark -r "$TS_TMP/all.pcap" -T fields -e frame.encap_type 2>/dev/null | sort -u)"
ok "each file holds exactly the frames of its port and direction, byte for byte"

# Timestamps: when the frame passed, in order, close to now.
for f in rx0 tx1 both2 all cnt snap; do
	bad=$(pcap_frames "$TS_TMP/$f.pcap" | awk -v a="$T_START" -v b="$T_END" '
		{ t = $3 + 0
		  if (t < a - 2 || t > b + 2) print "frame " NR ": " $3 " not in [" a ", " b "]"
		  if (NR > 1 && t < prev) print "frame " NR ": " $3 " before " prev
		  prev = t }')
	check_eq "$f.pcap: timestamps in order and within 2 s of the run" "" "$bad"
done
# t0's rx frames were sent two pktio runs apart: their times must be
# the frames' own, not the time they were written out.
gaps=$(pcap_frames "$TS_TMP/rx0.pcap" | awk 'NR > 1 && $3 - prev < 0.2 { print NR ": " $3 - prev } { prev = $3 }')
check_eq "rx0.pcap: frames sent >= 0.3 s apart are stamped apart" "" "$gaps"
ok "timestamps"

# --------------------------------------- a relative file name, count N
mkdir "$TS_TMP/cwd"
CAP=$(cd "$TS_TMP/cwd" && ctlj capture start dev "$T0" dir rx count 2 file rel.pcap | jq -c '.[0]')
check_eq "a relative file name is taken in the client's directory" \
	"$TS_TMP/cwd/rel.pcap" "$(printf '%s' "$CAP" | jq -r .file)"
ID_REL=$(printf '%s' "$CAP" | jq -r .id)
G1=$(frame $BC $A 11 70)
G2=$(frame $B $A 12 80)
G3=$(frame $B $A 13 90)
xfer 0 "$G1" 1 2
xfer 0 "$G2" 1
xfer 0 "$G3" 1
for ((i = 0; i < 50; i++)); do
	[ "$(cap_json "$ID_REL" | jq -r .state)" = "done" ] && break
	sleep 0.1
done
check_json "count 2: done after 2 frames, the third not taken" \
	"$(cap_json "$ID_REL")" \
	'.state == "done" and .stats.frames == 2 and .stats.bytes == 150 and
	 .stats.dropped == 0'
check_pcap "relative name, count 2" "$TS_TMP/cwd/rel.pcap" "$(rec "$G1"; rec "$G2")"
ctl capture stop id "$ID_REL" >/dev/null || fail "capture stop id $ID_REL"
ok "a relative file name lands in the working directory; count N stops by itself"

# ------------------------------------------------------- bad arguments
mkfifo "$TS_TMP/fifo"
# bad WHAT ARGS...: capture start ARGS fails: status non-zero, one line
# "Error: ..." on stderr, nothing on stdout.
bad()
{
	local what=$1 rc=0 out err
	shift
	out=$(ctl_may_fail capture start "$@" 2>"$TS_TMP/err") || rc=$?
	err=$(cat "$TS_TMP/err")
	if [ "$rc" = 0 ] || [ -n "$out" ] ||
		[ "$(printf '%s\n' "$err" | wc -l)" != 1 ] ||
		[[ $err != Error:\ * ]]; then
		printf 'FAIL: capture start %s (%s)\n  expected: non-zero, one line "Error: ..." on stderr\n  got:      status %s, stdout "%s", stderr "%s"\n' \
			"$*" "$what" "$rc" "$out" "$err" >&2
		TS_FAILED=1
	fi
	return 0
}
bad "no such port" dev "${TS_ID}zz" file "$TS_TMP/e1.pcap"
bad "directory missing" dev "$T0" file "$TS_TMP/no/such/dir/e2.pcap"
bad "a directory" dev "$T0" file "$TS_TMP/cwd"
bad "a FIFO with no reader" dev "$T0" file "$TS_TMP/fifo"
bad "file missing" dev "$T0"
bad "file without its argument" dev "$T0" file
bad "bad dir" dev "$T0" dir sideways file "$TS_TMP/e3.pcap"
bad "count 0" dev "$T0" count 0 file "$TS_TMP/e4.pcap"
bad "count not a number" dev "$T0" count many file "$TS_TMP/e4.pcap"
bad "snaplen 0" dev "$T0" snaplen 0 file "$TS_TMP/e5.pcap"
bad "snaplen 13" dev "$T0" snaplen 13 file "$TS_TMP/e5.pcap"
bad "snaplen too large" dev "$T0" snaplen 100000000 file "$TS_TMP/e5.pcap"
bad "snaplen not a number" dev "$T0" snaplen big file "$TS_TMP/e5.pcap"
bad "vlan 0" dev "$T0" vlan 0 file "$TS_TMP/e6.pcap"
bad "vlan 4095" dev "$T0" vlan 4095 file "$TS_TMP/e6.pcap"
bad "an unknown word" dev "$T0" file "$TS_TMP/e7.pcap" sideways
assert_eq "nothing listed after the bad starts" "[]" "$(ctlj capture show | jq -c .)"
for f in e1 e3 e4 e5 e6 e7; do
	[ ! -e "$TS_TMP/$f.pcap" ] || check_eq "a refused capture leaves no file $f.pcap" absent present
done
rc=0
err=$(ctl_may_fail capture stop 2>&1 >/dev/null) || rc=$?
check_eq "capture stop with nothing running: an error" "1 Error: no such capture" "$([ "$rc" != 0 ] && echo 1) $err"
rc=0
err=$(ctl_may_fail capture stop id 999 2>&1 >/dev/null) || rc=$?
if [ "$rc" = 0 ] || [[ $err != Error:* ]]; then
	check_eq "capture stop id 999: an error" "non-zero, Error: ..." "$rc $err"
fi
daemon_alive || fail "tapswitch died"
xfer 1 "$(frame $A $B 21)" 0
ok "bad arguments: one line Error: ..., nothing started, still forwarding"

# ------------------------------------------ a TCP super-frame, whole
TCPXFER=$BUILD/tests/tools/tcpxfer
[ -x "$TCPXFER" ] || fail "$TCPXFER not built (make binaries)"
ip -n "${HOSTS[0]}" addr add 198.18.5.1/24 dev "$T0"
ip -n "${HOSTS[1]}" addr add 198.18.5.2/24 dev "$T1"
ip netns exec "${HOSTS[0]}" timeout 10 ping -n -q -c 2 -i 0.2 -w 5 198.18.5.2 \
	>/dev/null 2>&1 || fail "h0 cannot ping h1"
cap_start dev "$T1" dir tx file "$TS_TMP/tcp.pcap"
ID_TCP=$CAP_ID
# Every port, both ways: frames from two poll threads at once.
cap_start file "$TS_TMP/tcpall.pcap"
ID_TCPALL=$CAP_ID
stats_save
ip netns exec "${HOSTS[1]}" "$TCPXFER" recv 198.18.5.2 5201 20 \
	>"$TS_TMP/xfer-r" 2>&1 &
srv=$!
bg_track "$srv"
for ((i = 0; i < 50; i++)); do
	grep -qs listening "$TS_TMP/xfer-r" && break
	sleep 0.1
done
sent=$(ip netns exec "${HOSTS[0]}" "$TCPXFER" send 198.18.5.2 5201 \
	$((16 << 20)) 7 20 2>&1) || fail "transfer h0 -> h1: $sent"
stream_wait "$srv" 20 || fail "receiver: $(cat "$TS_TMP/xfer-r")"
assert_eq "h0 -> h1: bytes and hash received" "$sent" "$(tail -n 1 "$TS_TMP/xfer-r")"
TXP=$(stat_delta "$T1" tx_packets)
TXB=$(stat_delta "$T1" tx_bytes)
out=$(ctlj -s capture stop id "$ID_TCP")
check_json "TCP capture: every frame t1 sent, none dropped" "$out" \
	".[0].stats.frames == $TXP and .[0].stats.bytes == $TXB and
	 .[0].stats.dropped == 0"
read -r n sum max cut < <(tshark -r "$TS_TMP/tcp.pcap" -T fields -e frame.len \
	-e frame.cap_len 2>/dev/null |
	awk '{ n++; s += $1; if ($1 > m) m = $1; if ($1 != $2) cut++ }
	     END { print n + 0, s + 0, m + 0, cut + 0 }')
check_eq "TCP capture: frames in the file = t1's tx_packets" "$TXP" "$n"
check_eq "TCP capture: frames cut short (caplen < len)" 0 "$cut"
check_eq "TCP capture: bytes in the file = t1's tx_bytes" "$TXB" "$sum"
# (On afxdp ports no super-frame exists: an XDP frame has no offload
# state, and the hosts behind them send MTU-sized frames.)
SUPER=1
[ "${TS_PORT_KIND:-tap}" != afxdp ] || SUPER=0
[ "$SUPER" = 0 ] || [ "$max" -gt 3000 ] ||
	check_eq "TCP capture: a super-frame captured as one frame (largest frame.len)" "> 3000" "$max"
ctl capture stop id "$ID_TCPALL" >/dev/null
back=$(tshark -r "$TS_TMP/tcpall.pcap" -T fields -e frame.time_epoch 2>/dev/null |
	awk 'NR > 1 && $1 < prev { n++; d = prev - $1; if (d > m) m = d }
	     { prev = $1 } END { if (n) printf "%d of %d frames, up to %.6f s back", n, NR, m }')
check_eq "TCP, every port both ways: timestamps in file order" "" "$back"
ok "TCP through the switch: $n frames captured whole, the largest $max bytes"

# With offloads off on t1, the switch cuts the super-frames up as they
# leave: the capture shows the segments that went out, as t1 counts them.
ctl port set "$T1" offload off
cap_start dev "$T1" dir tx file "$TS_TMP/seg.pcap"
ID_SEG=$CAP_ID
stats_save
ip netns exec "${HOSTS[1]}" "$TCPXFER" recv 198.18.5.2 5201 20 \
	>"$TS_TMP/xfer-r" 2>&1 &
srv=$!
bg_track "$srv"
for ((i = 0; i < 50; i++)); do
	grep -qs listening "$TS_TMP/xfer-r" && break
	sleep 0.1
done
sent=$(ip netns exec "${HOSTS[0]}" "$TCPXFER" send 198.18.5.2 5201 \
	$((1 << 20)) 8 20 2>&1) || fail "transfer h0 -> h1: $sent"
stream_wait "$srv" 20 || fail "receiver: $(cat "$TS_TMP/xfer-r")"
assert_eq "h0 -> h1 (offload off): bytes and hash received" "$sent" "$(tail -n 1 "$TS_TMP/xfer-r")"
TXP=$(stat_delta "$T1" tx_packets)
TXB=$(stat_delta "$T1" tx_bytes)
GSO=$(stat_delta "$T1" tx_sw_gso)
[ "$SUPER" = 0 ] || [ "$GSO" -gt 0 ] || fail "$T1 (offload off): no tx_sw_gso"
out=$(ctlj -s capture stop id "$ID_SEG")
read -r n sum max < <(tshark -r "$TS_TMP/seg.pcap" -T fields -e frame.len \
	2>/dev/null | awk '{ n++; s += $1; if ($1 > m) m = $1 }
	                   END { print n + 0, s + 0, m + 0 }')
check_eq "segments: frames in the file = t1's tx_packets" "$TXP" "$n"
check_eq "segments: bytes in the file = t1's tx_bytes" "$TXB" "$sum"
check_json "segments: capture counters" "$out" \
	".[0].stats.frames == $TXP and .[0].stats.dropped == 0"
[ "$max" -le 1514 ] || check_eq "segments: the largest frame.len" "<= 1514" "$max"
ok "offload off: the $GSO super-frames cut up are captured as the $n segments sent"
# (An afxdp port has no offloads to turn on.)
[ "$SUPER" = 0 ] || ctl port set "$T1" offload on
ip -n "${HOSTS[0]}" addr flush dev "$T0"
ip -n "${HOSTS[1]}" addr flush dev "$T1"

# ----------------------------------------------- VLANs: tags inline
#   t0: access, PVID 10 untagged   t1: trunk, 10 and 20 tagged
#   t2: access, PVID 20 untagged
# tg HEX VID [PCP]: HEX with an 802.1Q tag after the MACs.
tg() { printf '%s8100%04x%s' "${1:0:24}" $((${3:-0} << 13 | $2)) "${1:24}"; }
ctl set vlan_filtering 1
ctl vlan add dev "$T0" vid 10 pvid untagged
ctl vlan add dev "$T1" vid 10
ctl vlan add dev "$T1" vid 20
ctl vlan add dev "$T2" vid 20 pvid untagged
for t in "$T0" "$T1" "$T2"; do ctl vlan del dev "$t" vid 1; done
cap_start vlan 10 file "$TS_TMP/v10.pcap"
check_eq "vlan in the record" 10 "$(printf '%s' "$CAP" | jq -r .vlan)"
cap_start dev "$T1" dir tx vlan 20 file "$TS_TMP/t1v20.pcap"
cap_start dev "$T1" file "$TS_TMP/t1.pcap"

V1=$(frame $BC $A 31)			# h0, VLAN 10 by PVID
V2=$(tg "$(frame $A $B 32 70)" 10 3)	# h1, tagged 10 PCP 3, to A
V3=$(frame $BC $C 33 80)		# h2, VLAN 20 by PVID
V4=$(tg "$(frame $C $B 34)" 20)		# h1, tagged 20, to C
V5=$(tg "$(frame $A $B 35)" 30)		# h1, VLAN 30: not a member
stats_save
xfer_as 0 "$V1" "1=$(tg "$V1" 10)"
xfer_as 1 "$V2" "0=$(frame $A $B 32 70)"
xfer_as 2 "$V3" "1=$(tg "$V3" 20)"
xfer_as 1 "$V4" "2=$(frame $C $B 34)"
xfer 1 "$V5"
assert_delta "$T1" drop_vlan 1
ctl capture stop >/dev/null
check_pcap "vlan 10, every port" "$TS_TMP/v10.pcap" "$(
	rec "$V1"; rec "$(tg "$V1" 10)"
	rec "$V2"; rec "$(frame $A $B 32 70)")"
check_pcap "vlan 20, t1 tx" "$TS_TMP/t1v20.pcap" "$(rec "$(tg "$V3" 20)")"
check_pcap "t1, every VLAN" "$TS_TMP/t1.pcap" "$(
	rec "$(tg "$V1" 10)"; rec "$V2"; rec "$(tg "$V3" 20)"; rec "$V4"; rec "$V5")"
ok "VLAN captures: vlan VID selects, tags as on the wire of each port"

daemon_alive || fail "tapswitch died"
ts_done
