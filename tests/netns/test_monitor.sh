#!/bin/bash
#
# test_monitor.sh - the event monitor (`tapswitchctl -j monitor [fdb]
# [port] [count N]`, JSON Lines): FDB events learned, moved (with from),
# added, replaced, deleted, flushed, aged; port events added, removed,
# down, up; the fdb and port words select; count N ends it; a monitor
# ended by Ctrl-C or killed leaves the daemon answering and forwarding.
#
#     h0 (A)       h1 (B)       h2             host namespaces
#    tsXt0        tsXt1        tsXt2
#      |            |            |
#      +------- tapswitch -------+
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
command -v ss >/dev/null 2>&1 || skip "no ss"
trap cleanup_bg EXIT

hosts_setup 3
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]}
A=02:00:00:00:00:0a	# on h0, then on h2
B=02:00:00:00:00:0b	# on h1
E=02:00:00:00:00:e1	# a static entry
BC=ff:ff:ff:ff:ff:ff
X=${TS_ID}x		# a port added and removed

# events FILE: FILE's events, one line each:
# "OBJECT EVENT MAC IFNAME VLAN FROM FLAGS" ("-" for what is absent).
events()
{
	jq -r '[.object, .event, (.mac // "-"), (.ifname // "-"),
		(.vlan // "-" | tostring), (.from // "-"),
		(.flags // [] | if length == 0 then "-" else join(",") end)
	       ] | join(" ")' "$1"
}

# wait_event FILE LINE [SECONDS]: until events FILE has LINE (5 s at most).
wait_event()
{
	local i
	for ((i = 0; i < ${3:-5} * 20; i++)); do
		events "$1" | grep -qxF -- "$2" && return 0
		sleep 0.05
	done
	return 1
}

stream_start "$TS_TMP/all" -j monitor
M_ALL=$STREAM_PID
stream_start "$TS_TMP/fdb" -j monitor fdb
M_FDB=$STREAM_PID
stream_start "$TS_TMP/port" -j monitor port
M_PORT=$STREAM_PID
stream_start "$TS_TMP/both" -j monitor port fdb
M_BOTH=$STREAM_PID
stream_start "$TS_TMP/three" -j monitor count 3
M_3=$STREAM_PID
stream_start "$TS_TMP/killed" -j monitor
M_KILL=$STREAM_PID

EXP=()		# the events expected, in order
xfer 0 "$(frame $BC $A 1)" 1 2
EXP+=("fdb learned $A $T0 - - -")
xfer 1 "$(frame $A $B 2)" 0
EXP+=("fdb learned $B $T1 - - -")
xfer 2 "$(frame $B $A 3)" 1
EXP+=("fdb moved $A $T2 - $T0 -")

# count 3: ended by itself, with the first three.
stream_wait "$M_3" 5 || check_eq "monitor count 3: exit status" 0 "$?"
check_eq "monitor count 3: the first three events" \
	"$(printf '%s\n' "${EXP[@]}")" "$(events "$TS_TMP/three")"

# A client killed outright (SIGKILL, by PID): the daemon lets go of it
# and goes on.
kill -s KILL "$M_KILL"
wait "$M_KILL" 2>/dev/null || true
stream_released "$M_KILL"

ctl fdb add $E dev "$T1"
EXP+=("fdb added $E $T1 - - static")
ctl fdb replace $E dev "$T2" sticky
EXP+=("fdb replaced $E $T2 - - static,sticky")
ctl fdb del $E dev "$T2"
EXP+=("fdb deleted $E $T2 - - static,sticky")
ctl port add "$X"
EXP+=("port added - $X - - -")
ctl port del "$X"
EXP+=("port removed - $X - - -")
ok "monitor count 3 ends by itself; a killed monitor is let go"

# Port down: the port's learned entries go with it.
ip -n "${HOSTS[2]}" link set "$T2" down
wait_port_state "$T2" disabled
DOWN=("port down - $T2 - - -" "fdb flushed $A $T2 - - -")
wait_event "$TS_TMP/all" "${DOWN[0]}" || true
ip -n "${HOSTS[2]}" link set "$T2" up
wait_forwarding "$T2"
UP="port up - $T2 - - -"
ctl fdb flush
FLUSH="fdb flushed $B $T1 - - -"

# Ageing: learn A again, with a 1 s ageing time.
ctl set ageing_time 1
xfer 0 "$(frame $BC $A 4)" 1 2
AGE=("fdb learned $A $T0 - - -" "fdb aged $A $T0 - - -")
wait_event "$TS_TMP/all" "${AGE[1]}" 5 ||
	check_eq "an aged event within 5 s of ageing_time 1" aged "not seen"
ctl set ageing_time 300

# Ctrl-C ends each monitor, exit status 0.
sleep 0.2
for p in "$M_ALL" "$M_FDB" "$M_PORT" "$M_BOTH"; do
	kill -s INT "$p"
done
for p in "$M_ALL" "$M_FDB" "$M_PORT" "$M_BOTH"; do
	stream_wait "$p" 5 || check_eq "monitor ended by Ctrl-C: exit status" 0 "$?"
	stream_released "$p"
done
for f in all fdb port both three killed; do
	check_eq "monitor ($f): nothing on stderr" "" "$(cat "$TS_TMP/$f.err")"
done

# The whole stream: EXP, then the port-down group (its order within is
# not asserted), then up, flush, ageing.
got=$(events "$TS_TMP/all")
n=${#EXP[@]}
check_eq "monitor: events from learning to port removed, in order" \
	"$(printf '%s\n' "${EXP[@]}")" "$(printf '%s\n' "$got" | head -n "$n")"
check_eq "monitor: port down, and its learned entry flushed" \
	"$(printf '%s\n' "${DOWN[@]}" | LC_ALL=C sort)" \
	"$(printf '%s\n' "$got" | sed -n "$((n + 1)),$((n + 2))p" | LC_ALL=C sort)"
check_eq "monitor: then up, flush, learned and aged" \
	"$(printf '%s\n' "$UP" "$FLUSH" "${AGE[@]}")" \
	"$(printf '%s\n' "$got" | sed -n "$((n + 3)),\$p")"
check_json "monitor: every event has its time" "$(jq -s . "$TS_TMP/all")" \
	'length > 0 and all(.[]; .time | test("^[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$"))'
check_eq "monitor port fdb = monitor" "$got" "$(events "$TS_TMP/both")"
check_eq "monitor fdb: the FDB events only" \
	"$(printf '%s\n' "$got" | grep '^fdb ')" "$(events "$TS_TMP/fdb")"
check_eq "monitor port: the port events only" \
	"$(printf '%s\n' "$got" | grep '^port ')" "$(events "$TS_TMP/port")"
ok "monitor: learned, moved, added, replaced, deleted, port added/removed/down/up, flushed, aged; fdb and port select"

# The daemon after all that: it answers, forwards, holds no stream.
daemon_alive || fail "tapswitch died"
xfer 1 "$(frame $A $B 5)" 0 2
xfer 0 "$(frame $B $A 6)" 1
ok "after the monitors: still forwarding"

# A writer that falls behind says what it lost: 20000 entries learned,
# then flushed at once, faster than a monitor can send them; every event
# is either sent or counted in a "lost" record.
K=20000
ctl fdb flush
stream_start "$TS_TMP/lots" -j monitor fdb
P=$STREAM_PID
awk -v n=$K -v d="$(mac_hex $B)" 'BEGIN {
	for (i = 0; i < n; i++) {
		printf "send 0 %s02aa%08x88b5%092d\n", d, i, 0
		if (i % 64 == 63) print "wait 2"
	}
	print "wait 500"
}' >"$TS_TMP/lots.cmd"
timeout 60 "$PKTIO" -w 0 "${PKT_IFS[@]}" <"$TS_TMP/lots.cmd" >/dev/null ||
	fail "pktio failed"
n=$(ctlj fdb show | jq 'map(select(.mac | startswith("02:aa:"))) | length')
check_eq "entries learned from $K sources" "$K" "$n"
check_eq "entries in the table" "$K" "$(ctlj fdb show | jq length)"
ctl fdb flush
sleep 1
kill -s INT "$P"
stream_wait "$P" 5 || check_eq "monitor fdb, ended by Ctrl-C: exit status" 0 "$?"
acct=$(jq -s -c '{learned: map(select(.event == "learned")) | length,
		  flushed: map(select(.event == "flushed")) | length,
		  lost: map(select(.event == "lost") | .count) | add,
		  lost_records: map(select(.object == "monitor")) | length}' \
	"$TS_TMP/lots")
check_json "monitor: $n learned and flushed, every event sent or counted lost" \
	"$acct" ".learned + .flushed + .lost == 2 * $n and .lost > 0 and
		 .lost_records >= 1"
check_json "monitor: the lost records say so" "$(jq -s . "$TS_TMP/lots")" \
	'all(.[] | select(.object == "monitor"); .event == "lost" and .count > 0)'
ok "monitor: $n entries learned and flushed: $acct"

# Bad arguments.
for args in "monitor sideways" "monitor count 0" "monitor dev $T0" "monitor fdb count"; do
	rc=0
	# shellcheck disable=SC2086 # words, on purpose
	err=$(ctl_may_fail $args 2>&1 >/dev/null) || rc=$?
	if [ "$rc" = 0 ] || [[ $err != Error:\ * ]] || [ "$(printf '%s\n' "$err" | wc -l)" != 1 ]; then
		check_eq "tapswitchctl $args" "non-zero, one line Error: ..." "status $rc: $err"
	fi
done
ts_done
