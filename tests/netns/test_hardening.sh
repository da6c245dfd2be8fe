#!/bin/bash
#
# test_hardening.sh - slow peers, hostile paths and careless limits; each
# part failed before its fix:
#   - a client that connects and sends nothing, or a byte a second, does
#     not hold another client's `port show` up by more than 100 ms; one
#     that reads a big answer slowly gets all of it;
#   - `explain ... pcap FIFO` is refused at once, and the switch answers
#     on (it once blocked inside the lock: every command, the link monitor
#     and SIGTERM hung); a stderr nobody reads holds nothing up;
#   - capture files: new ones 0600; never through a symbolic link, never
#     a device; an existing file only with force;
#   - max_watchers: one watcher past the limit is refused, clearly;
#   - --ctl-group: a member that is not root may control the switch, but
#     not have it open files; a user outside the group is refused;
#   - a frame longer than the egress port's MTU is not sent and is
#     counted; the MTU follows the device.
#
#        h0            h1          host namespaces
#       tsXt0         tsXt1        taps, moved in
#         |             |
#         +-- tapswitch +          (root namespace)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

CTLPEER=$BUILD/tests/tools/ctlpeer
[ -x "$CTLPEER" ] || fail "no $CTLPEER (make binaries builds it)"

hosts_setup 2
T0=${TAPS[0]}
T1=${TAPS[1]}

# ms_of CMD...: how long CMD took, in ms (its output thrown away).
ms_of()
{
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# ---- slow clients ----

base=0
for _ in 1 2 3; do
	t=$(ms_of ctl port show)
	[ "$t" -gt "$base" ] && base=$t
done
"$CTLPEER" "$TS_SOCK" idle 4 &
bg_track $!
"$CTLPEER" "$TS_SOCK" trickle 4 &
bg_track $!
sleep 0.3
worst=0
for _ in 1 2 3 4 5; do
	t=$(ms_of ctl port show)
	[ "$t" -gt "$worst" ] && worst=$t
	sleep 0.1
done
[ "$worst" -le $((base + 100)) ] ||
	fail "port show took $worst ms beside an idle and a trickling client (alone: $base ms)"
ok "an idle client and one sending a byte a second hold nobody up ($worst ms, $base ms alone)"

# A client that takes a big answer slowly but steadily gets all of it
# (the server once dropped any answer not gone 2 s after it was ready).
K=20000
awk -v n=$K 'BEGIN {
	for (i = 0; i < n; i++) {
		printf "send 0 ffffffffffff02bb%08x88b5%092d\n", i, 0
		if (i % 64 == 63) print "wait 2"
	}
	print "wait 300"
}' >"$TS_TMP/sources.cmd"
timeout 60 "$PKTIO" -w 0 "${PKT_IFS[@]}" <"$TS_TMP/sources.cmd" >/dev/null ||
	fail "pktio failed"
assert_eq "entries learned from $K sources" "$K" \
	"$(ctlj fdb show | jq 'map(select(.mac | startswith("02:bb:"))) | length')"
got=$(timeout 60 "$CTLPEER" "$TS_SOCK" slowread 4) ||
	fail "a slow reader of fdb show lost its answer: $got"
assert_eq "a slow reader of fdb show gets all of it" "complete 1" \
	"$(awk '{ print $3, $4 }' <<<"$got")"
ctl fdb flush
ok "a client that reads a big answer slowly gets all of it ($got)"

# ---- files the daemon reads ----

mkfifo "$TS_TMP/fifo"
rc=0
out=$(timeout 5 "$TAPSWITCHCTL" --ctl "$TS_SOCK" explain dev "$T0" \
	pcap "$TS_TMP/fifo" 2>&1) || rc=$?
[ "$rc" != 124 ] || fail "explain pcap FIFO: no answer in 5 s"
check_eq "explain pcap FIFO: refused" \
	"1 Error: argument \"$TS_TMP/fifo\" is wrong: not a regular file" \
	"$rc $out"
t=$(ms_of ctl port show)
[ "$t" -le $((base + 100)) ] || fail "port show after explain: $t ms"
ok "explain of a FIFO is refused at once; the switch answers on"

# side_start SOCK [ARGS...]: a second tapswitch, no ports, its stderr
# into $TS_TMP/side.err unless SIDE_ERR names another file; SIDE_PID.
side_start()
{
	local sock=$1 i
	shift
	"$TAPSWITCH" --ctl "$sock" "$@" 2>"${SIDE_ERR:-$TS_TMP/side.err}" &
	SIDE_PID=$!
	bg_track "$SIDE_PID"
	for ((i = 0; i < 50; i++)); do
		"$TAPSWITCHCTL" --ctl "$sock" show >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	fail "a second tapswitch on $sock does not answer"
}

# side_stop: SIGTERM, and its exit status must be 0 within 5 s.
side_stop()
{
	local rc=0 i
	kill -TERM "$SIDE_PID"
	for ((i = 0; i < 50; i++)); do
		pid_alive "$SIDE_PID" || break
		sleep 0.1
	done
	pid_alive "$SIDE_PID" && fail "tapswitch (pid $SIDE_PID) ignored SIGTERM for 5 s"
	wait "$SIDE_PID" 2>/dev/null || rc=$?
	[ "$rc" = 0 ] || fail "tapswitch (pid $SIDE_PID) exited with $rc"
}

# A stderr nobody reads: 2000 bad requests, each a log line (well over a
# pipe's 64 KiB), and the switch still answers, and hears SIGTERM.
mkfifo "$TS_TMP/stderr"
sleep 60 <"$TS_TMP/stderr" &
bg_track $!
SIDE_ERR=$TS_TMP/stderr side_start "$TS_TMP/side.sock"
timeout 30 "$CTLPEER" "$TS_TMP/side.sock" garbage 2000 ||
	fail "2000 bad requests: not all answered in 30 s"
t=$(ms_of timeout 5 "$TAPSWITCHCTL" --ctl "$TS_TMP/side.sock" show)
[ "$t" -lt 5000 ] || fail "show with a full stderr: no answer in 5 s"
[ "$t" -le $((base + 100)) ] || fail "show with a full stderr: $t ms"
side_stop
ok "a stderr nobody reads: lines are dropped, commands answered, SIGTERM heard"

# ---- capture files ----

stop_all() { ctl_may_fail capture stop >/dev/null 2>&1 || true; }

# refused WHAT PATH [ARGS...]: capture start into PATH is an error.
refused()
{
	local what=$1 path=$2 rc=0 out
	shift 2
	out=$(ctl_may_fail capture start dev "$T0" file "$path" "$@" 2>&1) ||
		rc=$?
	[ "$rc" != 0 ] && [[ $out == Error:* ]] ||
		fail "capture into $what: not refused (status $rc: $out)"
}

ctl capture start dev "$T0" file "$TS_TMP/new.pcap" count 1 >/dev/null
check_eq "a new capture file's mode" 600 "$(stat -c %a "$TS_TMP/new.pcap")"
stop_all

echo keep >"$TS_TMP/target"
ln -s "$TS_TMP/target" "$TS_TMP/link.pcap"
refused "a symbolic link" "$TS_TMP/link.pcap"
refused "a symbolic link, with force" "$TS_TMP/link.pcap" force
check_eq "the link's target" keep "$(cat "$TS_TMP/target")"
refused "a device" /dev/null force
mkdir "$TS_TMP/dir"
refused "a directory" "$TS_TMP/dir" force

echo old >"$TS_TMP/old.pcap"
refused "an existing file" "$TS_TMP/old.pcap"
check_eq "an existing file left alone" old "$(cat "$TS_TMP/old.pcap")"
ctl capture start dev "$T0" file "$TS_TMP/old.pcap" force count 1 \
	>/dev/null
stop_all
# (A nanosecond pcap file: magic a1b23c4d, little-endian here.)
check_eq "an existing file, with force: a pcap file now" \
	"4d3cb2a1 24" \
	"$(od -An -tx1 -N4 "$TS_TMP/old.pcap" | tr -d ' ') $(stat -c %s "$TS_TMP/old.pcap")"
ok "capture files: 0600, no symbolic link, no device, overwritten only with force"

# ---- max_watchers ----

ctl set max_watchers 2
assert_eq "max_watchers" 2 "$(sw_field max_watchers)"
stream_start "$TS_TMP/m1" monitor
stream_start "$TS_TMP/m2" monitor
rc=0
out=$(timeout 5 "$TAPSWITCHCTL" --ctl "$TS_SOCK" trace count 1 2>&1) || rc=$?
check_eq "a third watcher" \
	"1 Error: 2 watchers are running (max_watchers): stop one, or raise max_watchers" \
	"$rc $out"
refused "a capture past max_watchers" "$TS_TMP/third.pcap"
bg_stop_all
ctl set max_watchers 16
ok "max_watchers holds back the watcher past it"

# ---- the control group ----

GID=42424
grpdir=$(mktemp -d /tmp/tsgrp.XXXXXX)
# shellcheck disable=SC2064 # now: the directory's name is known now
trap "rm -rf '$grpdir'; cleanup" EXIT
chmod 0755 "$grpdir"
GSOCK=$grpdir/sock
side_start "$GSOCK" --ctl-group "$GID"
check_eq "socket with --ctl-group" "660 $GID" "$(stat -c '%a %g' "$GSOCK")"
as() { setpriv --reuid=65534 --regid="$1" --clear-groups -- "${@:2}"; }
out=$(as "$GID" "$TAPSWITCHCTL" --ctl "$GSOCK" -j show) ||
	fail "a member of the control group cannot read show"
assert_json "show, as a member of the group" "$out" '.max_watchers == 16'
as "$GID" "$TAPSWITCHCTL" --ctl "$GSOCK" set ageing_time 99 ||
	fail "a member of the control group cannot set"
out=$("$TAPSWITCHCTL" --ctl "$GSOCK" -j show)
assert_json "ageing_time set by a member" "$out" '.ageing_time == 99'
rc=0
out=$(as "$GID" "$TAPSWITCHCTL" --ctl "$GSOCK" capture start \
	file "$grpdir/x.pcap" 2>&1) || rc=$?
check_eq "a member's capture into a file" \
	"1 Error: argument \"$grpdir/x.pcap\" is wrong: only root may have the daemon write files; stream with dump or trace instead" \
	"$rc $out"
[ ! -e "$grpdir/x.pcap" ] || fail "a member's capture file was made"
rc=0
as $((GID + 1)) "$TAPSWITCHCTL" --ctl "$GSOCK" show >/dev/null 2>&1 ||
	rc=$?
[ "$rc" != 0 ] || fail "a user outside the control group may read show"
side_stop
ok "--ctl-group: members control the switch, but open no file through it; others are refused"

# ---- MTU ----

A=02:00:00:00:0b:0a
B=02:00:00:00:0b:0b
xfer 1 "$(frame $A $B 1)" 0		# B is behind T1
ip -n "${HOSTS[1]}" link set "$T1" mtu 1280
for ((i = 0; i < 50; i++)); do
	[ "$(port_field "$T1" mtu)" = 1280 ] && break
	sleep 0.1
done
assert_eq "$T1's mtu, as its device says" 1280 "$(port_field "$T1" mtu)"
stats_save
xfer 0 "$(frame $B $A 2 1298)" 1	# 1280 + 14 + 4: fits
xfer 0 "$(frame $B $A 3 1299)"		# one byte over: not sent
assert_delta "$T1" tx_drop_mtu 1
assert_delta "$T1" tx_packets 1
assert_delta "$T0" tx_drop_mtu 0
ok "a frame over the egress port's MTU is not sent, and counted"
ts_done
