#!/bin/bash
#
# test_capture_slow.sh - a capture whose writer cannot keep up: the file
# is a FIFO read 1 KiB every 50 ms, and 5000 full-size frames cross the
# switch.  The capture must lose frames (counted in stats.dropped), never
# forwarding: every frame reaches its host, the egress port's tx_packets
# grows by exactly as many.  Meanwhile the switch stays configurable, and
# `capture stop` returns promptly; every frame the capture took is
# accounted for, written or dropped.
#
#     h0 (A)  tsXt0 --- tapswitch --- tsXt1  h1 (B)
#
# A stalled writer is unstuck, when a check failed, by taking its reader
# away (the writer gets EPIPE and gives up), so that one run reports
# every failure and the daemon can still be stopped.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v ss >/dev/null 2>&1 || skip "no ss"

N=${TS_SLOW_FRAMES:-5000}
RD_PID=
RD_FD=

# Take the slow reader away (by PID), then the common clean-up.
cleanup_slow()
{
	local rc=$?
	set +e
	reader_stop
	(exit "$rc")
	cleanup_bg
}
trap cleanup_slow EXIT

hosts_setup 2
T0=${TAPS[0]} T1=${TAPS[1]}
A=02:00:00:00:00:0a	# on h0
B=02:00:00:00:00:0b	# on h1
xfer 0 "$(frame ff:ff:ff:ff:ff:ff $A 1)" 1
xfer 1 "$(frame $A $B 2)" 0

# reader_start FIFO: a reader that takes 1 KiB every 50 ms (20 KiB/s).
# The FIFO is opened here first (read-write: it does not wait for a
# writer), so that it has a reader before the capture opens it.
reader_start()
{
	exec {RD_FD}<>"$1"
	(
		while :; do
			dd bs=1024 count=1 of=/dev/null status=none
			sleep 0.05
		done
	) <&"$RD_FD" &
	RD_PID=$!
}

# reader_stop: no reader any more; a writer blocked on the FIFO gets EPIPE.
# The reader loop is stopped first, so that it starts nothing new; then
# its dd or sleep (which hold the FIFO too), by PID; then the loop.
reader_stop()
{
	local c
	if [ -n "$RD_PID" ]; then
		kill -s STOP "$RD_PID" 2>/dev/null
		for c in $(ps -o pid= --ppid "$RD_PID" 2>/dev/null); do
			kill "$c" 2>/dev/null
		done
		kill "$RD_PID" 2>/dev/null
		kill -s CONT "$RD_PID" 2>/dev/null
		wait "$RD_PID" 2>/dev/null || true
		RD_PID=
	fi
	if [ -n "$RD_FD" ]; then
		exec {RD_FD}>&-
		RD_FD=
	fi
	return 0
}

# flood: N frames of 1514 bytes from A to B, as fast as pktio sends (a
# pause of 2 ms every 64), then a second to collect.  Prints how many h1
# received.
flood()
{
	awk -v n="$N" -v d="$(mac_hex $B)" -v s="$(mac_hex $A)" 'BEGIN {
		pad = ""
		for (i = 20; i < 1514; i++) pad = pad "00"
		for (i = 0; i < n; i++) {
			printf "send 0 %s%s88b57473%08x%s\n", d, s, i, pad
			if (i % 64 == 63) print "wait 2"
		}
		print "wait 1000"
	}' >"$TS_TMP/flood.cmd"
	timeout 60 "$PKTIO" -w 0 "${PKT_IFS[@]}" <"$TS_TMP/flood.cmd" \
		>"$TS_TMP/flood.out" || fail "pktio flood failed"
	grep -c '^rx 1 ' "$TS_TMP/flood.out" || true
	grep -q '^rx 0 ' "$TS_TMP/flood.out" && fail "h0 received a frame"
	return 0
}

# timed SECONDS CMD...: CMD under timeout; sets TIMED_RC and TIMED_S (the
# time it took, in seconds with a fraction).
timed()
{
	local lim=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	TIMED_RC=0
	timeout "$lim" "$@" >"$TS_TMP/timed.out" 2>&1 || TIMED_RC=$?
	t1=$(date +%s.%N)
	TIMED_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

# unstick: a control command timed out behind the stalled writer; take
# the reader away and wait (bounded) until the daemon answers again.
unstick()
{
	local i
	reader_stop
	for ((i = 0; i < 20; i++)); do
		timeout 1 "$TAPSWITCHCTL" --ctl "$TS_SOCK" show >/dev/null 2>&1 &&
			return 0
	done
	fail "tapswitch does not answer 20 s after its capture lost its reader"
}

# stall FIFO: a capture of every port into FIFO, read slowly; flood;
# assert that forwarding lost nothing and the capture did.  Sets CAP_ID.
stall()
{
	local got s
	mkfifo "$1"
	reader_start "$1"
	CAP_ID=$(ctlj capture start file "$1" | jq -r '.[0].id')
	stats_save
	d0=$(link_stat "${HOSTS[0]}" "$T0" tx dropped)
	got=$(flood)
	# Frames h0's kernel could not queue to its tap never reached the
	# switch (it reads more slowly than pktio sends); every other one
	# must cross.
	IN=$((N - ($(link_stat "${HOSTS[0]}" "$T0" tx dropped) - d0)))
	[ "$IN" -gt $((N / 2)) ] || fail "h0 lost $((N - IN)) of $N frames before the switch"
	assert_eq "frames h1 received from the flood ($((N - IN)) lost in h0)" "$IN" "$got"
	assert_delta "$T0" rx_packets "$IN"
	assert_delta "$T1" tx_packets "$IN"
	assert_delta "$T1" tx_errors 0
	s=$(ctlj -s capture show)
	assert_json "the capture lost frames, counted (stats.dropped > 0)" "$s" \
		".[] | select(.id == $CAP_ID) | .state == \"running\" and
		 .stats.dropped > 0 and
		 .stats.frames + .stats.dropped <= $((2 * IN))"
	ok "$IN frames forwarded whole while the capture dropped $(printf '%s' "$s" |
		jq ".[] | select(.id == $CAP_ID) | .stats.dropped")"
}

# ------------------------- the switch stays configurable meanwhile
stall "$TS_TMP/fifo1"
timed 5 "$TAPSWITCHCTL" --ctl "$TS_SOCK" set vlan_filtering 1
if [ "$TIMED_RC" != 0 ]; then
	printf 'FAIL: tapswitchctl set vlan_filtering 1, with a capture writer stalled on a slow FIFO\n  expected: exit 0 within 5 s\n  got:      exit %s after %s s (%s)\n' \
		"$TIMED_RC" "$TIMED_S" "$(cat "$TS_TMP/timed.out")" >&2
	TS_FAILED=1
	unstick
else
	ok "set vlan_filtering answered in $TIMED_S s"
fi
reader_stop
ctl set vlan_filtering 0
ctl capture stop >/dev/null
rm -f "$TS_TMP/fifo1"
xfer 0 "$(frame $B $A 3)" 1

# ----------------------------------- capture stop returns promptly
stall "$TS_TMP/fifo2"
timed 10 "$TAPSWITCHCTL" --ctl "$TS_SOCK" -j -s capture stop id "$CAP_ID"
if [ "$TIMED_RC" != 0 ]; then
	printf 'FAIL: tapswitchctl capture stop, with the writer stalled on a slow FIFO\n  expected: exit 0 within 5 s\n  got:      exit %s after %s s\n' \
		"$TIMED_RC" "$TIMED_S" >&2
	TS_FAILED=1
	unstick
	out=$(ctlj -s capture show)
else
	out=$(cat "$TS_TMP/timed.out")
	[ "$(awk -v t="$TIMED_S" 'BEGIN { print (t <= 5) }')" = 1 ] ||
		check_eq "capture stop took (s)" "<= 5" "$TIMED_S"
	check_json "capture stop: stopped, every frame it took written or dropped" \
		"$out" ".[0].state == \"stopped\" and
		 .[0].stats.frames + .[0].stats.dropped == $((2 * IN))"
	ok "capture stop answered in $TIMED_S s"
fi
reader_stop

# A FIFO whose reader goes away: the capture ends in state "error";
# forwarding goes on.
mkfifo "$TS_TMP/fifo3"
reader_start "$TS_TMP/fifo3"
ID=$(ctlj capture start file "$TS_TMP/fifo3" | jq -r '.[0].id')
xfer 0 "$(frame $B $A 5)" 1
reader_stop
xfer 0 "$(frame $B $A 6)" 1
for ((i = 0; i < 50; i++)); do
	st=$(ctlj capture show | jq -r ".[] | select(.id == $ID) | .state")
	[ "$st" = error ] && break
	sleep 0.1
done
check_eq "a capture whose FIFO lost its reader: state" error "$st"
ctl capture stop id "$ID" >/dev/null
ok "a capture whose FIFO reader went away: state error"

# The daemon is healthy: it forwards, answers, and has no capture left.
daemon_alive || fail "tapswitch died"
xfer 1 "$(frame $A $B 4)" 0
ctl_may_fail capture stop >/dev/null 2>&1 || true
assert_eq "no capture listed" "[]" "$(ctlj capture show | jq -c .)"
ts_done
