#!/bin/bash
#
# test_ports.sh - port lifecycle: taps made by --port and by `port add`,
# a tap that existed before (attached, left in place on exit), ports moved
# into namespaces (and on to another), link down/up, a tap deleted under
# the daemon, port del, port add again.
#
#      h0          h1          h2          h3            host namespaces
#     tsXt0       tsXt1       tsXt2       tsXp           taps, moved in
#   (--port)    (--port)  (port add)  (existed before;
#       |           |           |       --port)
#       +-----------+----- tapswitch ----+               (root namespace)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

H0=$TS_ID-h0 H1=$TS_ID-h1 H2=$TS_ID-h2 H3=$TS_ID-h3
T0=${TS_ID}t0 T1=${TS_ID}t1 T2=${TS_ID}t2 P=${TS_ID}p
BC=ff:ff:ff:ff:ff:ff
A=02:00:00:00:06:0a B=02:00:00:00:06:0b C=02:00:00:00:06:0c
D=02:00:00:00:06:0d

ns_add "$H0" "$H1" "$H2" "$H3"
pretap_add "$P"
daemon_start --port "$T0" --port "$T1" --port "$P"
assert_eq "ports at start" "$(sorted "$P" "$T0" "$T1")" "$(port_names)"

ctl port add "$T2"
assert_eq "ports after port add" "$(sorted "$P" "$T0" "$T1" "$T2")" \
	"$(port_names)"
for t in "$T0" "$T1" "$T2" "$P"; do
	assert_eq "$t kind" tap "$(port_field "$t" kind)"
	assert_json "$t is a tap and up in the root namespace" \
		"$(ip -j -d link show dev "$t")" \
		'.[0] | (.flags | index("UP")) and .linkinfo.info_kind == "tun"'
done
ok "--port and port add create taps and bring them up; existing tap attached"

tap_to_ns "$T0" "$H0"
tap_to_ns "$T1" "$H1"
tap_to_ns "$T2" "$H2"
tap_to_ns "$P" "$H3"
for t in "$T0" "$T1" "$T2" "$P"; do
	wait_forwarding "$t"
	assert_eq "$t link" up "$(port_field "$t" link)"
done
settle_fdb
pkt_ifs "$H0:$T0" "$H1:$T1" "$H2:$T2" "$H3:$P"
xfer 0 "$(frame $BC $A 1)" 1 2 3
xfer 1 "$(frame $BC $B 2)" 0 2 3
xfer 2 "$(frame $BC $C 3)" 0 1 3
xfer 3 "$(frame $BC $D 4)" 0 1 2
xfer 3 "$(frame $A $D 5)" 0
xfer 0 "$(frame $D $A 6)" 3
ok "ports moved into namespaces forward, the pre-existing tap too"

# --- link down and up ----------------------------------------------------
ctl fdb add 02:00:00:00:06:05 dev "$T2" static
ip -n "$H2" link set dev "$T2" down
wait_port_state "$T2" disabled
assert_eq "$T2 link when down" down "$(port_field "$T2" link)"
for ((i = 0; i < 20; i++)); do
	[ -z "$(fdb_port $C)" ] && break
	sleep 0.1
done
assert_eq "fdb: dynamic $C on a port that went down" "" "$(fdb_port $C)"
stats_save
xfer 0 "$(frame $BC $A 10)" 1 3
xfer 0 "$(frame $C $A 11)" 1 3
xfer 0 "$(frame 02:00:00:00:06:05 $A 12)"
assert_delta "$T2" tx_packets 0
assert_delta "$T2" tx_errors 0
ok "link down: port disabled, its dynamic entries flushed, nothing sent to it"

ip -n "$H2" link set dev "$T2" up
wait_forwarding "$T2"
assert_eq "$T2 link when up again" up "$(port_field "$T2" link)"
xfer 0 "$(frame $BC $A 13)" 1 2 3
xfer 2 "$(frame $BC $C 14)" 0 1 3
xfer 0 "$(frame $C $A 15)" 2
# Linux keeps static entries when a port goes down (br_stp_disable_port()
# flushes with do_all 0).
assert_eq "fdb: static entry on $T2 after down and up" \
	"$T2" "$(fdb_port 02:00:00:00:06:05)"
xfer 0 "$(frame 02:00:00:00:06:05 $A 16)" 2
ok "link up again: forwarding; static entries survived"

# --- moved on to another namespace -----------------------------------------
H4=$TS_ID-h4
ns_add "$H4"
ip -n "$H0" link set dev "$T0" netns "$H4"
ip -n "$H4" link set dev "$T0" up
wait_forwarding "$T0"
pkt_ifs "$H4:$T0" "$H1:$T1" "$H2:$T2" "$H3:$P"
xfer 0 "$(frame $BC $A 17)" 1 2 3
xfer 1 "$(frame $A $B 18)" 0
ip -n "$H4" link set dev "$T0" down
wait_port_state "$T0" disabled
ip -n "$H4" link set dev "$T0" up
wait_forwarding "$T0"
xfer 3 "$(frame $BC $D 19)" 0 1 2
H0=$H4
ok "a port moved on to a second namespace: forwarding, down/up followed"

# --- the tap deleted under the daemon --------------------------------------
ip -n "$H1" link del dev "$T1"
for ((i = 0; i < 50; i++)); do
	[ "$(port_field "$T1" state)" = absent ] && break
	sleep 0.1
done
assert_eq "ports after $T1 was deleted" "$(sorted "$P" "$T0" "$T2")" \
	"$(port_names)"
assert_eq "fdb: $B, learned on the deleted $T1" "" "$(fdb_port $B)"
pkt_ifs "$H0:$T0" "$H2:$T2" "$H3:$P"
xfer 0 "$(frame $BC $A 20)" 1 2
xfer 1 "$(frame $B $C 21)" 0 2
xfer 2 "$(frame $C $D 22)" 1
daemon_alive || fail "tapswitch died when a tap was deleted"
ok "a deleted tap leaves port show; the others keep forwarding"

# --- port del, port add again ---------------------------------------------
ctl fdb add 02:00:00:00:06:07 dev "$T2" static
ctl port del "$T2"
assert_eq "ports after port del $T2" "$(sorted "$P" "$T0")" "$(port_names)"
# shellcheck disable=SC2016 # jq variables, not shell ones
assert_eq "fdb on $T2 after port del (static included)" "" \
	"$(ctlj fdb show | ts_jq "fdb show, entries on $T2" -r --arg n "$T2" \
		'map(select(.ifname == $n) | .mac) | join(" ")')"
for ((i = 0; i < 20; i++)); do
	ip -n "$H2" link show dev "$T2" >/dev/null 2>&1 || break
	sleep 0.1
done
if ip -n "$H2" link show dev "$T2" >/dev/null 2>&1; then
	fail "$T2 (made by tapswitch) still exists after port del"
fi
pkt_ifs "$H0:$T0" "$H3:$P"
xfer 0 "$(frame $BC $A 30)" 1
xfer 1 "$(frame $C $D 31)" 0
ok "port del: port gone, the tap it made gone"

ctl port add "$T2"
tap_to_ns "$T2" "$H2"
wait_forwarding "$T2"
pkt_ifs "$H0:$T0" "$H2:$T2" "$H3:$P"
xfer 1 "$(frame $BC $C 40)" 0 2
xfer 0 "$(frame $C $A 41)" 1
ok "port add again after port del"

# --- exit ---------------------------------------------------------------
daemon_stop
assert_eq "tapswitch exit status on SIGTERM" 0 "$TS_DAEMON_STATUS"
ip -n "$H3" link show dev "$P" >/dev/null 2>&1 ||
	fail "the pre-existing tap $P is gone after tapswitch exited"
for pair in "$H0:$T0" "$H2:$T2"; do
	if ip -n "${pair%%:*}" link show dev "${pair#*:}" >/dev/null 2>&1; then
		fail "${pair#*:} (made by tapswitch) still exists after it exited"
	fi
done
ok "on exit: taps it made are gone, the pre-existing one stays"
ts_done
