#!/bin/bash
#
# test_cli.sh - the control interface as a contract: options of both
# binaries, the JSON shapes scripts rely on, errors ("Error: ..." on
# stderr, non-zero exit, nothing changed, the switch still forwarding),
# the control socket's mode, a stale socket, exit status 0 on SIGTERM and
# SIGINT.  Independent checks report and go on (check_*), so that one run
# lists every mismatch.
#
#        h0            h1          host namespaces
#       tsXt0         tsXt1        taps, moved in
#         |             |
#         +- tapswitch -+          (root namespace)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

A=02:00:00:00:07:0a
S=02:00:00:00:07:05
BC=ff:ff:ff:ff:ff:ff

# --- options of tapswitch -------------------------------------------------
rc=0
out=$(timeout 5 "$TAPSWITCH" --help 2>&1) || rc=$?
check_eq "tapswitch --help exit status" 0 "$rc"
case $out in
*--ctl*) ;;
*) check_eq "tapswitch --help mentions --ctl" "--ctl" "$out" ;;
esac
rc=0
out=$(timeout 5 "$TAPSWITCH" --version 2>&1) || rc=$?
check_eq "tapswitch --version exit status" 0 "$rc"
[ -n "$out" ] || check_eq "tapswitch --version prints a version" "a version" ""

for bad in "--bogus" "--ageing-time -1" "--ageing-time x" "--max-learned x" \
	"--max-learned -3" "--group-fwd-mask 0x1" "--group-fwd-mask zz" \
	"--port"; do
	rc=0
	# shellcheck disable=SC2086 # split into options on purpose
	timeout 5 "$TAPSWITCH" --ctl "$TS_TMP/bad.sock" $bad \
		>/dev/null 2>"$TS_TMP/err" || rc=$?
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		check_eq "tapswitch $bad: exit status" "non-zero, at once" \
			"$rc$([ "$rc" = 124 ] && echo ' (still running after 5 s)')"
	fi
	[ -s "$TS_TMP/err" ] ||
		check_eq "tapswitch $bad: a message on stderr" "a message" ""
done
ok "tapswitch --help, --version, bad options"

# --- start-up options reach the settings -----------------------------------
daemon_start --ageing-time 77 --max-learned 9 --group-fwd-mask 0x4000
json=$(ctlj show)
# (and --group-fwd-mask 0x4000)
check_json "-j show after --ageing-time 77 --max-learned 9" \
	"$json" '.ageing_time == 77 and .max_learned == 9 and
		 .group_fwd_mask == 16384 and .vlan_filtering == 0'
daemon_stop INT
check_eq "tapswitch exit status on SIGINT" 0 "$TS_DAEMON_STATUS"
[ ! -e "$TS_SOCK" ] ||
	check_eq "control socket after exit" "removed" "still there"
ok "start-up options; SIGINT"

# --- the JSON shapes ---------------------------------------------------------
ns_add "$TS_ID-h0" "$TS_ID-h1"
T0=${TS_ID}t0 T1=${TS_ID}t1
daemon_start --port "$T0" --port "$T1"
tap_to_ns "$T0" "$TS_ID-h0"
tap_to_ns "$T1" "$TS_ID-h1"
wait_forwarding "$T0"
wait_forwarding "$T1"
settle_fdb
pkt_ifs "$TS_ID-h0:$T0" "$TS_ID-h1:$T1"

[ -S "$TS_SOCK" ] || check_eq "control socket" "a socket" "$(ls -l "$TS_SOCK")"
check_eq "control socket mode" 600 "$(stat -c %a "$TS_SOCK")"

json=$(ctlj show)
check_json "-j show: settings" "$json" \
	'type == "object" and .ageing_time == 300 and .max_learned == 65536 and
	 .group_fwd_mask == 0 and .vlan_filtering == 0'
# Counters come with -s, as for ports (iproute2's -s).
check_json "-j show: no stats without -s" "$json" '(has("stats") | not)'
json=$(ctlj -s show)
check_json "-j -s show: stats" "$json" \
	'[.stats.learned, .stats.moved, .stats.aged, .stats.limit_misses,
	  .stats.fdb_entries] | all(type == "number")'

json=$(ctlj port show)
check_json "-j port show" "$json" \
	'type == "array" and length == 2 and all(.[];
	 (.ifname | type == "string") and .kind == "tap" and
	 (.state == "forwarding") and (.link == "up") and
	 ([.learning, .flood, .mcast_flood, .bcast_flood] |
	  all(. == true)) and (has("stats") | not))'
check_json "-j port show: names" "$json" \
	"map(.ifname) | sort == ([\"$T0\", \"$T1\"] | sort)"
json=$(ctlj -s port show)
# shellcheck disable=SC2016 # jq variables, not shell ones
check_json "-j -s port show: stats" "$json" \
	'all(.[]; .stats as $s |
	 ["rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "flooded",
	  "drop_runt", "drop_src", "drop_link_local", "drop_same_port",
	  "drop_port_down", "tx_errors", "rx_errors"] |
	 all(.[]; ($s[.] | type) == "number"))'
json=$(ctlj port show dev "$T1")
check_json "-j port show dev $T1" "$json" \
	"length == 1 and .[0].ifname == \"$T1\""

check_json "-j fdb show, empty" "$(ctlj fdb show)" '. == []'
xfer 0 "$(frame $BC $A 1)" 1
ctl fdb add $S dev "$T1" static sticky
json=$(ctlj fdb show)
check_json "-j fdb show" "$json" \
	"type == \"array\" and length == 2 and
	 all(.[]; (has(\"vlan\") | not) and (.age | type == \"number\")) and
	 (map(select(.mac == \"$A\"))[0] |
	  .ifname == \"$T0\" and .flags == []) and
	 (map(select(.mac == \"$S\"))[0] |
	  .ifname == \"$T1\" and (.flags | sort) == [\"static\", \"sticky\"])"
check_json "-j fdb show dev $T1" "$(ctlj fdb show dev "$T1")" \
	"length == 1 and .[0].mac == \"$S\""
ctl fdb add 02:00:00:00:07:AB dev "$T1" static
check_json "fdb add with upper-case hex: shown lower-case" \
	"$(ctlj fdb show dev "$T1")" \
	'map(.mac) | index("02:00:00:00:07:ab") != null'
ctl fdb del 02:00:00:00:07:ab dev "$T1"
for cmd in show "port show" "fdb show" "-s port show"; do
	# shellcheck disable=SC2086 # split into words on purpose
	ctl_may_fail $cmd >/dev/null ||
		check_eq "tapswitchctl $cmd (text)" 0 "$?"
done
ok "JSON shapes, socket mode"

# --- errors ----------------------------------------------------------------
before_show=$(ctlj show)
before_ports=$(ctlj port show)
before_fdb=$(ctlj fdb show | jq -c 'map(del(.age))')
NOPORT=${TS_ID}zz
while IFS= read -r cmd; do
	[ -n "$cmd" ] || continue
	eval "args=($cmd)"
	rc=0
	ctl_may_fail "${args[@]}" >"$TS_TMP/out" 2>"$TS_TMP/err" || rc=$?
	if [ "$rc" = 0 ]; then
		check_eq "tapswitchctl $cmd: exit status" "non-zero" 0
	fi
	check_eq "tapswitchctl $cmd: stderr" "Error: ..." \
		"$(head -n1 "$TS_TMP/err" | sed 's/^\(Error: \).*/\1.../')"
	check_eq "tapswitchctl $cmd: stdout" "" "$(cat "$TS_TMP/out")"
done <<EOF
bogus
port bogus
port add ""
port add 0123456789abcdefgh
port del $NOPORT
port show dev $NOPORT
port set $NOPORT learning off
port set $T0 learning maybe
port set $T0 bogus on
port set $T0 learning
fdb bogus
fdb add 02:00:00:00:00:zz dev $T0
fdb add 02:00:00:00:00 dev $T0
fdb add 02:00:00:00:00:01:02 dev $T0
fdb add 02:00:00:00:00:001 dev $T0
fdb add 02:00:00:00:00:01 dev $NOPORT
fdb add 02:00:00:00:00:01
fdb add 02:00:00:00:00:01 dev $T0 bogus
fdb del 02:00:00:00:00:99 dev $T0
fdb del zz dev $T0
fdb del $A dev $T1
fdb add $A dev $T1 static
fdb add $S dev $T0
fdb add -0:02:03:04:05:06 dev $T0
fdb add 01:00:5e:00:00:01 dev $T0
fdb add 00:00:00:00:00:00 dev $T0
fdb add 02:00:00:00:00:01 dev $T0 permanent
port add x%d
port show dev
fdb flush dev $NOPORT
fdb flush bogus
fdb show dev $NOPORT
set ageing_time -1
set ageing_time abc
set ageing_time ""
set ageing_time 99999999999999999999
set ageing_time 1000001
set ageing_time
set max_learned -5
set max_learned x
set max_learned 1.5
set group_fwd_mask 0x3
set bogus 1
EOF
check_eq "-j show after the errors" "$before_show" "$(ctlj show)"
check_eq "-j port show after the errors" "$before_ports" "$(ctlj port show)"
check_eq "-j fdb show after the errors" "$before_fdb" \
	"$(ctlj fdb show | jq -c 'map(del(.age))')"
xfer 0 "$(frame $S $A 2)" 1
xfer 1 "$(frame $BC 02:00:00:00:07:0b 3)" 0
ok "bad commands: Error: ..., non-zero, nothing changed, still forwarding"

# fdb add refuses a known MAC, as `bridge fdb add` does; replace takes it.
ctl fdb replace $A dev "$T1" static
check_json "fdb replace moves a learned entry and makes it static" \
	"$(ctlj fdb show)" \
	"map(select(.mac == \"$A\"))[0] | .ifname == \"$T1\" and .flags == [\"static\"]"
ctl fdb del $A dev "$T1"
ok "fdb add refuses an existing entry; fdb replace replaces it"

# --ctl never removes something that is not a socket.
echo keep >"$TS_TMP/not-a-socket"
rc=0
"$TAPSWITCH" --ctl "$TS_TMP/not-a-socket" 2>"$TS_TMP/err" || rc=$?
check_eq "tapswitch --ctl FILE: exit status" 1 "$rc"
check_eq "tapswitch --ctl FILE: message" "Error: ..." \
	"$(head -n1 "$TS_TMP/err" | sed 's/^\(Error: \).*/\1.../')"
check_eq "tapswitch --ctl FILE: the file is kept" keep "$(cat "$TS_TMP/not-a-socket")"
ok "--ctl on a regular file: error, file kept"

# A socket nobody listens on, and one that does not exist.
for sock in "$TS_TMP/nosuch.sock" "$TS_TMP"; do
	rc=0
	"$TAPSWITCHCTL" --ctl "$sock" show >/dev/null 2>"$TS_TMP/err" || rc=$?
	[ "$rc" != 0 ] || check_eq "tapswitchctl --ctl $sock: exit status" \
		"non-zero" 0
	check_eq "tapswitchctl --ctl $sock: stderr" "Error: ..." \
		"$(head -n1 "$TS_TMP/err" | sed 's/^\(Error: \).*/\1.../')"
done

daemon_stop TERM
check_eq "tapswitch exit status on SIGTERM" 0 "$TS_DAEMON_STATUS"
[ ! -e "$TS_SOCK" ] ||
	check_eq "control socket after exit" "removed" "still there"

# SIGKILL: no clean-up at all.  The tap it made must still go (it is not
# persistent: it lives as long as the daemon's file descriptor), and the
# socket file it leaves behind is stale.
K=${TS_ID}k
daemon_start --port "$K"
{
	kill -s KILL "$TS_DAEMON_PID"
	daemon_stop
} 2>/dev/null # (bash's "Killed" notice)
for ((i = 0; i < 20; i++)); do
	ip link show dev "$K" >/dev/null 2>&1 || break
	sleep 0.1
done
if ip link show dev "$K" >/dev/null 2>&1; then
	check_eq "tap $K after tapswitch was killed" "gone (not persistent)" \
		"still there"
	ip tuntap del mode tap name "$K" 2>/dev/null || true
fi
rc=0
ctl_may_fail show >/dev/null 2>"$TS_TMP/err" || rc=$?
[ "$rc" != 0 ] || check_eq "tapswitchctl on a stale socket: exit status" \
	"non-zero" 0
check_eq "tapswitchctl on a stale socket: stderr" "Error: ..." \
	"$(head -n1 "$TS_TMP/err" | sed 's/^\(Error: \).*/\1.../')"
ok "SIGTERM exit status; taps not persistent; missing and stale sockets"
ts_done
