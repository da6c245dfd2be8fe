#!/bin/bash
#
# test_streams.sh - the hex dump (`tapswitchctl dump dev IFNAME [dir
# rx|tx|both] [count N]`), and what every stream (trace, dump, monitor)
# must survive:
#
#  - dump's text is the seed program's (`Read Bytes: N`, then 16 bytes a
#    row, `xx xx xx xx xx xx xx xx -- xx ...`), with the exact bytes that
#    crossed the port; -j gives them as `hex`; dir selects;
#  - many streams at once, each getting all its records;
#  - Ctrl-C (SIGINT to the client) ends any stream with status 0, and the
#    daemon lets go of its connection;
#  - a client that stops reading (SIGSTOP) does not hold up forwarding or
#    the control socket, and is let go.
#
#     h0 (A)       h1 (B)       h2 (C)        host namespaces
#    tsXt0        tsXt1        tsXt2
#      |            |            |
#      +------- tapswitch -------+
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v ss >/dev/null 2>&1 || skip "no ss"

STOPPED=
# A client left stopped must be continued before it can be stopped.
cleanup_streams()
{
	local rc=$?
	set +e
	[ -n "$STOPPED" ] && kill -s CONT "$STOPPED" 2>/dev/null
	(exit "$rc")
	cleanup_bg
}
trap cleanup_streams EXIT

hosts_setup 3
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]}
A=02:00:00:00:00:0a	# on h0
B=02:00:00:00:00:0b	# on h1
C=02:00:00:00:00:0c	# on h2
BC=ff:ff:ff:ff:ff:ff
xfer 0 "$(frame $BC $A 1)" 1 2
xfer 1 "$(frame $A $B 2)" 0
xfer 2 "$(frame $A $C 3)" 0

# seed_dump HEX: the block the seed program prints for a frame: "Read
# Bytes: N", then 16 bytes a row, " -- " between the 8th and 9th; then an
# empty line.  Written here from the seed's sample, not from the client.
seed_dump()
{
	printf 'Read Bytes: %d\n' $((${#1} / 2))
	printf '%s\n' "$1" | awk '{
		n = length($0) / 2; row = ""
		for (i = 0; i < n; i++) {
			b = substr($0, 2 * i + 1, 2)
			if (i % 16 == 0) row = b
			else if (i % 16 == 8) row = row " -- " b
			else row = row " " b
			if (i % 16 == 15 || i == n - 1) { print row; row = "" }
		}
	}'
	echo
}

# check_dump WHAT FILE IFNAME DIR:HEX...: FILE holds exactly these frames,
# each a header line "HH:MM:SS.uuuuuu IFNAME DIR" and its seed block.
check_dump()
{
	local what=$1 file=$2 ifname=$3 item want='' got
	shift 3
	for item in "$@"; do
		want+="TIME $ifname ${item%%:*}"$'\n'
		want+=$(seed_dump "${item#*:}")$'\n\n'
	done
	got=$(sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} /TIME /' "$file")
	if [ "$got" != "$(printf '%s' "$want" | sed '$d')" ] &&
		[ "$got"$'\n' != "$want" ]; then
		printf 'FAIL: %s\n  expected:\n%s\n  got:\n%s\n' "$what" \
			"$(printf '%s' "$want" | sed 's/^/    |/')" \
			"$(sed 's/^/    |/' "$file")" >&2
		TS_FAILED=1
	fi
	return 0
}

# --------------------------------------------------------------- dump
# A's frames to B leave through t1 (tx), B's to A come in on it (rx).
D1=$(frame $B $A 11)		# 60 bytes: 3 rows and 12 bytes
D2=$(frame $A $B 12 64)		# 4 full rows
D3=$(frame $B $A 13 72)		# 4 rows and 8 bytes: no " -- " on the last
D4=$(frame $A $B 14 61)		# an odd length
D5=$(frame $B $A 15 1514)	# the largest a host sends
stream_start "$TS_TMP/d_both" dump dev "$T1" count 5
P_BOTH=$STREAM_PID
stream_start "$TS_TMP/d_rx" dump dev "$T1" dir rx count 2
P_RX=$STREAM_PID
stream_start "$TS_TMP/d_tx" -j dump dev "$T1" dir tx count 3
P_TX=$STREAM_PID
stream_start "$TS_TMP/d_t2" dump dev "$T2" count 1
P_T2=$STREAM_PID
xfer 0 "$D1" 1
xfer 1 "$D2" 0
xfer 0 "$D3" 1
xfer 1 "$D4" 0
xfer 0 "$D5" 1
for p in "$P_BOTH" "$P_RX" "$P_TX"; do
	stream_wait "$p" 5 || check_eq "dump (pid $p): exit status" 0 "$?"
done
check_dump "dump dev t1 count 5: the seed's format, the exact bytes" \
	"$TS_TMP/d_both" "$T1" "tx:$D1" "rx:$D2" "tx:$D3" "rx:$D4" "tx:$D5"
check_dump "dump dev t1 dir rx count 2" "$TS_TMP/d_rx" "$T1" "rx:$D2" "rx:$D4"
check_json "dump -j dir tx: hex, len, caplen" "$(jq -s . "$TS_TMP/d_tx")" "
	length == 3 and all(.[]; .ifname == \"$T1\" and .dir == \"tx\" and
	                         .len == .caplen and .len * 2 == (.hex | length)) and
	map(.hex) == [\"$D1\", \"$D3\", \"$D5\"]"
# t2 saw none of it: its dump is still waiting for its frame.
pid_alive "$P_T2" || check_eq "dump dev t2 count 1, nothing through t2" running ended
check_eq "dump dev t2: nothing printed" "" "$(cat "$TS_TMP/d_t2")"
kill -s INT "$P_T2"
stream_wait "$P_T2" 5 || check_eq "dump ended by Ctrl-C: exit status" 0 "$?"
stream_released "$P_T2"
for f in d_both d_rx d_tx d_t2; do
	check_eq "dump ($f): nothing on stderr" "" "$(cat "$TS_TMP/$f.err")"
done
ok "dump: the seed's hex format, exact bytes, dir selects, -j hex"

rc=0
err=$(ctl_may_fail dump 2>&1 >/dev/null) || rc=$?
if [ "$rc" = 0 ] || [[ $err != Error:\ * ]]; then
	check_eq "dump without dev" "non-zero, Error: ..." "$rc: $err"
fi
rc=0
err=$(ctl_may_fail dump dev "$T0" dir sideways 2>&1 >/dev/null) || rc=$?
if [ "$rc" = 0 ] || [[ $err != Error:\ * ]]; then
	check_eq "dump dir sideways" "non-zero, Error: ..." "$rc: $err"
fi

# --------------------------------------------------- many streams at once
N=20
PIDS=()
for i in 1 2 3 4 5 6; do
	stream_start "$TS_TMP/m_tr$i" -j trace dev "$T0" count $N
	PIDS+=("$STREAM_PID")
done
for i in 1 2 3 4; do
	stream_start "$TS_TMP/m_du$i" -j dump dev "$T0" dir rx count $N
	PIDS+=("$STREAM_PID")
done
MON=()
for i in 1 2 3 4; do
	stream_start "$TS_TMP/m_mo$i" -j monitor fdb
	MON+=("$STREAM_PID")
done
# N frames from N new sources on h0, to B.
for ((i = 0; i < N; i++)); do
	printf 'send 0 %s\n' "$(frame $B "02:00:00:00:01:$(printf '%02x' $i)" $((100 + i)))"
done | PKT_SETTLE=30 pkt_run >"$TS_TMP/m_out"
assert_eq "frames h1 received" "$N" "$(grep -c '^rx 1 ' "$TS_TMP/m_out")"
for p in "${PIDS[@]}"; do
	stream_wait "$p" 5 || check_eq "stream (pid $p): exit status" 0 "$?"
done
SRCS=$(for ((i = 0; i < N; i++)); do printf '02:00:00:00:01:%02x\n' $i; done |
	jq -R . | jq -s -c .)
for i in 1 2 3 4 5 6; do
	check_json "trace $i of 6: $N records, the sources in order" \
		"$(jq -s . "$TS_TMP/m_tr$i")" \
		"length == $N and map(.src) == $SRCS and
		 all(.[]; .learn == \"new\" and .lookup_ifname == \"$T1\")"
done
for i in 1 2 3 4; do
	check_json "dump $i of 4: $N frames" "$(jq -s . "$TS_TMP/m_du$i")" \
		"length == $N and all(.[]; .dir == \"rx\" and .len == 60)"
done
# Each monitor: the N sources learned.  (Wait for the last one a moment.)
for ((i = 0; i < 50; i++)); do
	[ "$(cat "$TS_TMP"/m_mo*)" ] &&
		[ "$(jq -s 'map(select(.event == "learned")) | length' "$TS_TMP/m_mo4")" -ge $N ] && break
	sleep 0.1
done
for p in "${MON[@]}"; do
	kill -s INT "$p"
done
for p in "${MON[@]}"; do
	stream_wait "$p" 5 || check_eq "monitor ended by Ctrl-C: exit status" 0 "$?"
done
for i in 1 2 3 4; do
	check_json "monitor $i of 4: the $N sources learned" \
		"$(jq -s . "$TS_TMP/m_mo$i")" \
		"map(select(.event == \"learned\" and .ifname == \"$T0\")) | length == $N"
done
for p in "${PIDS[@]}" "${MON[@]}"; do
	stream_released "$p"
done
ok "$((${#PIDS[@]} + ${#MON[@]})) streams at once, each with all its records"

# ---------------------------------------------- Ctrl-C on every kind
KINDS=("trace" "trace dev $T1" "dump dev $T1" "dump dev $T1 dir rx" "monitor" "monitor port")
PIDS=()
for ((i = 0; i < ${#KINDS[@]}; i++)); do
	# shellcheck disable=SC2086 # words, on purpose
	stream_start "$TS_TMP/c$i" -j ${KINDS[i]}
	PIDS+=("$STREAM_PID")
done
xfer 0 "$(frame $B $A 31)" 1
xfer 1 "$(frame $A $B 32)" 0
sleep 0.1
for p in "${PIDS[@]}"; do
	kill -s INT "$p"
done
for ((i = 0; i < ${#KINDS[@]}; i++)); do
	rc=0
	stream_wait "${PIDS[i]}" 5 || rc=$?
	check_eq "tapswitchctl ${KINDS[i]}, ended by Ctrl-C: exit status" 0 "$rc"
	check_eq "tapswitchctl ${KINDS[i]}, ended by Ctrl-C: stderr" "" "$(cat "$TS_TMP/c$i.err")"
	# Whole records only: every line is a JSON object.
	jq -e -s 'all(.[]; type == "object")' "$TS_TMP/c$i" >/dev/null 2>&1 ||
		check_eq "tapswitchctl ${KINDS[i]}: whole JSON lines" yes no
	stream_released "${PIDS[i]}"
done
check_json "trace ended by Ctrl-C had seen both frames" "$(jq -s . "$TS_TMP/c0")" \
	"length == 2 and .[0].ifname == \"$T0\" and .[1].ifname == \"$T1\""
xfer 0 "$(frame $B $A 33)" 1
ok "Ctrl-C ends trace, dump, monitor with status 0; the daemon lets go"

# ------------------------------------ a client that stops reading
stream_start "$TS_TMP/stopped" -j trace
STOPPED=$STREAM_PID
kill -s STOP "$STOPPED"
stats_save
M=3000
D0=$(link_stat "${HOSTS[0]}" "$T0" tx dropped)
awk -v n="$M" -v d="$(mac_hex $B)" -v s="$(mac_hex $A)" 'BEGIN {
	for (i = 0; i < n; i++) {
		printf "send 0 %s%s88b57473%08x%088d\n", d, s, i, 0
		if (i % 64 == 63) print "wait 2"
	}
	print "wait 1000"
}' >"$TS_TMP/flood.cmd"
timeout 60 "$PKTIO" -w 0 "${PKT_IFS[@]}" <"$TS_TMP/flood.cmd" >"$TS_TMP/flood.out" ||
	fail "pktio flood failed"
# Frames h0's kernel could not queue to its tap (the switch reading too
# slowly for pktio) never reached the switch; all the others must cross.
D=$(($(link_stat "${HOSTS[0]}" "$T0" tx dropped) - D0))
[ "$D" -lt $((M / 2)) ] || fail "h0 dropped $D of $M frames before the switch"
check_eq "frames h1 received with a trace client stopped ($D lost in h0)" \
	"$((M - D))" "$(grep -c '^rx 1 ' "$TS_TMP/flood.out")"
assert_delta "$T0" rx_packets $((M - D))
assert_delta "$T1" tx_packets $((M - D))
t0=$(date +%s%N)
timeout 5 "$TAPSWITCHCTL" --ctl "$TS_SOCK" set ageing_time 0 ||
	check_eq "set ageing_time 0 with a stopped trace client: exit status within 5 s" 0 "$?"
timeout 5 "$TAPSWITCHCTL" --ctl "$TS_SOCK" set ageing_time 300 || true
check_eq "... answered within 2 s" 1 "$((($(date +%s%N) - t0) < 2000000000))"
# The daemon gives up on a client that does not read.
stream_released "$STOPPED" 10
kill -s CONT "$STOPPED"
stream_wait "$STOPPED" 5 || true
STOPPED=
xfer 1 "$(frame $A $B 34)" 0 2	# (ageing_time 0 forgot A)
xfer 0 "$(frame $B $A 35)" 1
ok "a stopped client: forwarding whole, the switch configurable, the client let go"

# ---------------------------------- a port deleted under its watchers
# A capture, a trace and a dump of t2; t2 is deleted and a new port is
# added: what the new port carries is not theirs (the switch may reuse
# t2's place in its tables for it).
ctlj capture start dev "$T2" file "$TS_TMP/gone.pcap" >/dev/null
stream_start "$TS_TMP/g_tr" -j trace dev "$T2"
P_TR=$STREAM_PID
stream_start "$TS_TMP/g_du" -j dump dev "$T2"
P_DU=$STREAM_PID
ctl port del "$T2"
NEW=${TS_ID}n
ctl port add "$NEW"
ns_add "$TS_ID-hn"
tap_to_ns "$NEW" "$TS_ID-hn"
wait_forwarding "$NEW"
pkt_ifs "${HOSTS[0]}:$T0" "${HOSTS[1]}:$T1" "$TS_ID-hn:$NEW"
xfer 2 "$(frame $BC $C 41)" 0 1
xfer 0 "$(frame $C $A 42)" 2
sleep 0.2
check_json "a capture of a deleted port takes nothing of the port added after" \
	"$(ctlj -s capture show)" \
	"length == 1 and .[0].ifname == \"$T2\" and .[0].stats.frames == 0"
check_eq "... nothing in its trace" "" "$(cat "$TS_TMP/g_tr")"
check_eq "... nothing in its dump" "" "$(cat "$TS_TMP/g_du")"
for p in "$P_TR" "$P_DU"; do
	pid_alive "$p" && kill -s INT "$p"
	stream_wait "$p" 5 || true
done
ctl capture stop >/dev/null
ok "a watcher of a deleted port sees nothing of another port"

daemon_alive || fail "tapswitch died"
ts_done
