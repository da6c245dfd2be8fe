#!/bin/bash
#
# soak.sh - tapswitch under everything at once, for SOAK_S seconds
# (default 600), in the ASan build (make soak builds it; BUILD=build-asan):
#
#   - four hosts send at full rate (bench/pktgen), each to a static,
#     sticky MAC behind the next host's port, from 250000 source MACs of
#     its own: a MAC flood of 10^6 sources, all learned (max_learned 2M);
#   - a fifth port is deleted and added again every second (or as soon
#     as the last time is done), every other time from outside (ip link
#     del of its tap);
#   - 20 clients send random valid and invalid commands;
#   - captures are started and stopped;
#   - a probe asks `port show` every 100 ms and times the answer.
#
#        h0      h1      h2      h3       hosts: pktgen, 250k sources each
#        t0      t1      t2      t3       taps, moved in
#         \       |       |      /
#          +--- tapswitch (ASan) ---+ t4  (in namespace sw; t4 comes, goes)
#
# It passes when the daemon stayed alive, every probe was answered within
# 100 ms, its RSS stayed under SOAK_RSS_MB (default 2048), ASan and LSan
# reported nothing (the daemon exits 0 on SIGTERM, its stderr clean), and
# the switch's books balance: every frame its traffic ports received is
# a frame sent out, or failed or refused on the way out, or a drop
# counted by reason (all the soak's traffic is known unicast, so one in
# is at most one out).  It prints the figures as it ends.
#
# Not part of `make test`: `make soak` (SOAK_S=60 make soak for a short
# one).  Bounded: every loop ends at SOAK_S, the run under SOAK_S + 120 s.

set -eu
# shellcheck source-path=SCRIPTDIR source=../netns/lib.sh
. "$(dirname "$0")/../netns/lib.sh"

SOAK_S=${SOAK_S:-600}
SOAK_RSS_MB=${SOAK_RSS_MB:-2048}
PKTGEN=$BUILD/bench/pktgen
CTLPEER=$BUILD/tests/tools/ctlpeer
N_CLIENTS=20

ts_init
trap cleanup EXIT
[ -x "$PKTGEN" ] || fail "$PKTGEN not built (make soak builds it)"
[ -x "$CTLPEER" ] || fail "$CTLPEER not built"

SW=$TS_ID-sw
H=("$TS_ID-h0" "$TS_ID-h1" "$TS_ID-h2" "$TS_ID-h3")
T=("${TS_ID}t0" "${TS_ID}t1" "${TS_ID}t2" "${TS_ID}t3")
CH=${TS_ID}t4
ns_add "$SW" "${H[@]}"
# The daemon in a namespace of its own: every tap it makes is born there.
TS_DAEMON_WRAP="ip netns exec $SW" daemon_start \
	--port "${T[0]}" --port "${T[1]}" --port "${T[2]}" --port "${T[3]}" \
	--port "$CH" --max-learned 2000000
for i in 0 1 2 3; do
	ip -n "$SW" link set "${T[i]}" netns "${H[i]}"
	ip -n "${H[i]}" link set "${T[i]}" up
done
for i in 0 1 2 3; do
	wait_forwarding "${T[i]}" 10
done

# Host i's frames go to M[i+1], behind T[i+1]: static and sticky, so no
# frame of the soak's traffic floods.
M=(02:5e:00:00:00:00 02:5e:00:00:00:01 02:5e:00:00:00:02 02:5e:00:00:00:03)
for i in 0 1 2 3; do
	ctl fdb add "${M[i]}" dev "${T[i]}" static sticky
done

END=$(($(date +%s) + SOAK_S))
running() { [ "$(date +%s)" -lt "$END" ]; }

# ---- traffic ----
TRAFFIC=()
for i in 0 1 2 3; do
	(
		while running; do
			ip netns exec "${H[i]}" timeout 60 "$PKTGEN" \
				-i "${T[i]}" -d "${M[(i + 1) % 4]}" \
				-s "02:5a:0$i:00:00:00" -k 250000 -t 10 \
				>>"$TS_TMP/pktgen$i.json" 2>&1 || true
		done
	) &
	bg_track $!
	TRAFFIC+=($!)
done

# ---- a port that comes and goes ----
# A cycle starts every second, or as soon as the last one is done when
# it took longer (a removal and an addition wait on the kernel).
(
	n=0
	next=$(date +%s%N)
	while running; do
		next=$((next + 1000000000))
		if ((n % 2)); then
			ip -n "$SW" link del "$CH" 2>/dev/null || true
		else
			ctl_may_fail port del "$CH" >/dev/null 2>&1 || true
		fi
		# Gone (the link monitor removes a deleted tap's port), then
		# back.
		for ((k = 0; k < 50; k++)); do
			ctl_may_fail port add "$CH" >/dev/null 2>&1 && break
			sleep 0.05
		done
		n=$((n + 1))
		left=$((next - $(date +%s%N)))
		if [ "$left" -gt 0 ]; then
			sleep "$((left / 1000000000)).$(printf %09d $((left % 1000000000)))"
		else
			next=$(date +%s%N)
		fi
	done
	echo "$n" >"$TS_TMP/churns"
) &
bg_track $!
LOOPS=($!)

# ---- clients ----
HEX=$(frame "${M[1]}" 02:5a:00:00:00:01 1)
CMDS=(
	"show" "-s show" "port show" "-s port show dev ${T[0]}" "vlan show"
	"-j vlan show dev $CH" "capture show" "set max_learned 2000000"
	"set ageing_time 300" "port set $CH learning off"
	"port set $CH learning on" "vlan add dev $CH vid 10-20"
	"fdb add 02:77:00:00:00:01 dev $CH" "fdb del 02:77:00:00:00:01 dev $CH"
	"fdb replace 02:77:00:00:00:02 dev $CH dynamic"
	"explain dev ${T[0]} frame $HEX"
	# and wrong ones
	"port show dev nosuch" "fdb add zz dev ${T[0]}" "set ageing_time -1"
	"vlan add dev ${T[0]} vid 5000" "bogus" "set" "port set ${T[0]} bogus on"
	"capture stop id 99999" "explain dev ${T[0]} pcap /nonexistent"
	"fdb del 02:77:00:00:00:09 dev $CH" "port del nosuch"
)
for ((c = 0; c < N_CLIENTS; c++)); do
	(
		n=0
		while running; do
			# shellcheck disable=SC2086 # the words of a command
			timeout 10 "$TAPSWITCHCTL" --ctl "$TS_SOCK" \
				${CMDS[RANDOM % ${#CMDS[@]}]} >/dev/null 2>&1 ||
				[ $? != 124 ] || echo "client $c: no answer in 10 s" >>"$TS_TMP/client-errors"
			n=$((n + 1))
		done
		echo "$n" >"$TS_TMP/client$c"
	) &
	bg_track $!
	LOOPS+=($!)
done

# ---- captures ----
(
	n=0
	while running; do
		f=$TS_TMP/cap.pcap
		rm -f "$f"
		ctl_may_fail capture start dev "${T[$((n % 4))]}" file "$f" \
			count 10000 >/dev/null 2>&1 || true
		sleep 2
		ctl_may_fail capture stop >/dev/null 2>&1 || true
		n=$((n + 1))
	done
	echo "$n" >"$TS_TMP/captures"
) &
bg_track $!
LOOPS+=($!)

# ---- the probe, and the daemon's memory ----
"$CTLPEER" "$TS_SOCK" probe "$SOAK_S" >"$TS_TMP/probe" 2>&1 &
PROBE=$!
bg_track "$PROBE"
rss_max=0
while running; do
	daemon_alive || fail "tapswitch died under the soak"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$TS_DAEMON_PID/status")
	[ "$rss" -gt "$rss_max" ] && rss_max=$rss
	sleep 1
done
wait "$PROBE" || true
# Let the traffic stop (each sender ends its last 10 s window) and what
# is in flight settle.
for p in "${TRAFFIC[@]}" "${LOOPS[@]}"; do
	wait "$p" 2>/dev/null || true
done
sleep 2

# ---- the books ----
stats=$(ctlj -s port show)
sum() { printf '%s' "$stats" | jq "[.[] | select(.ifname != \"$CH\") | .stats | $1] | add"; }
rx=$(sum '.rx_packets')
out=$(sum '.tx_packets + .tx_errors + .tx_drop_mtu')
drops=$(sum '.drop_runt + .drop_src + .drop_link_local + .drop_same_port +
	.drop_port_down + .drop_vlan + .drop_bad_tag + .drop_bad_offload +
	.drop_no_egress')
flooded=$(sum '.flooded')
learned=$(ctlj -s show | jq '.stats.fdb_learned')
read -r _ probes _ max_ms _ failed _ median_ms _ p99_ms <"$TS_TMP/probe"
clients=0
for ((c = 0; c < N_CLIENTS; c++)); do
	clients=$((clients + $(cat "$TS_TMP/client$c" 2>/dev/null || echo 0)))
done
log "soak: ${SOAK_S} s: $rx frames in, $out out, $drops dropped by reason, $flooded flooded"
log "soak: $learned learned entries at the end; $(cat "$TS_TMP/churns") port churns, $(cat "$TS_TMP/captures") captures, $clients client commands"
log "soak: $probes probes, median ${median_ms} ms, 99th percentile ${p99_ms} ms, the slowest ${max_ms} ms, $failed unanswered; RSS at most $((rss_max / 1024)) MiB"

assert_eq "the soak's traffic floods nothing" 0 "$flooded"
assert_eq "frames in = frames out + drops by reason" "$rx" $((out + drops))
[ "$rx" -gt 0 ] || fail "no traffic crossed the switch"
assert_eq "probes unanswered" 0 "$failed"
awk -v m="$max_ms" 'BEGIN { exit !(m <= 100) }' ||
	fail "a probe waited ${max_ms} ms for port show (at most 100)"
[ $((rss_max / 1024)) -le "$SOAK_RSS_MB" ] ||
	fail "RSS reached $((rss_max / 1024)) MiB (at most $SOAK_RSS_MB)"
[ ! -s "$TS_TMP/client-errors" ] || fail "$(cat "$TS_TMP/client-errors")"
daemon_stop
[ "$TS_DAEMON_STATUS" = 0 ] ||
	fail "tapswitch exited with status $TS_DAEMON_STATUS on SIGTERM"
if grep -qE 'Sanitizer|runtime error:' "$TS_LOG"; then
	fail "a sanitizer report in the daemon's output"
fi
ok "soak: alive, answering, within memory, sanitizers quiet, books balanced"
ts_done
