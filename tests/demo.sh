#!/bin/bash
#
# demo.sh - the tapswitch demo lab (`make demo`).
#
#        h1 (198.18.0.1)     h2 (198.18.0.2)     h3 (198.18.0.3)
#             |                   |                   |
#           tap A               tap B               tap C      (each moved
#             \___________________|___________________/        into its host
#                          tapswitch (userspace)               namespace)
#
# Three hosts in network namespaces ping each other through tapswitch;
# then the learned FDB and the per-port counters are shown, and everything
# is removed again (also on failure).  Exit 0 when every ping got through.

set -eu
set -o pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
SW=$BUILD/tapswitch
CTL=$BUILD/tapswitchctl

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "demo: needs root and /dev/net/tun" >&2
	exit 1
fi

id=ts$(printf '%04x' $((RANDOM % 65536)))
sock=$(mktemp -u "/tmp/$id.XXXX.sock")
log=$(mktemp "/tmp/$id.XXXX.log")
pid=
hosts=(h1 h2 h3)

cleanup()
{
	local rc=$?
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	for h in "${hosts[@]}"; do ip netns del "$id-$h" 2>/dev/null || true; done
	rm -f "$sock" "$log"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "start tapswitch with three tap ports"
"$SW" --ctl "$sock" --port "${id}a" --port "${id}b" --port "${id}c" 2>"$log" &
pid=$!
for _ in $(seq 50); do "$CTL" --ctl "$sock" show >/dev/null 2>&1 && break; sleep 0.1; done
"$CTL" --ctl "$sock" show >/dev/null

step "three hosts, one tap each, moved into its namespace"
i=0
for port in a b c; do
	h=$id-${hosts[$i]}
	i=$((i + 1))
	ip netns add "$h"
	ip netns exec "$h" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	run ip link set "$id$port" netns "$h"
	run ip -n "$h" addr add "198.18.0.$i/24" dev "$id$port"
	run ip -n "$h" link set "$id$port" up
done
# The switch sees each port come up in its namespace within a moment.
for _ in $(seq 50); do
	up=$("$CTL" --ctl "$sock" -j port show | jq '[.[] | select(.state == "forwarding")] | length')
	[ "$up" = 3 ] && break
	sleep 0.1
done
run "$CTL" --ctl "$sock" port show

step "every host pings every other host"
fails=0
for src in 1 2 3; do
	for dst in 1 2 3; do
		[ $src = $dst ] && continue
		if ip netns exec "$id-h$src" ping -c 3 -i 0.2 -W 2 "198.18.0.$dst" >/dev/null; then
			echo "h$src -> h$dst: ok"
		else
			echo "h$src -> h$dst: FAILED"
			fails=$((fails + 1))
		fi
	done
done

step "what the switch learned"
run "$CTL" --ctl "$sock" fdb show
step "per-port counters"
run "$CTL" --ctl "$sock" -s port show
step "switch-wide settings and counters"
run "$CTL" --ctl "$sock" -s show

step "teardown"
kill -TERM "$pid"
wait "$pid" && echo "tapswitch exited 0; its taps are gone" || { echo "tapswitch exited $?"; fails=$((fails + 1)); }
pid=
if [ "$fails" != 0 ]; then
	echo "demo: $fails ping run(s) failed; tapswitch log:" >&2
	cat "$log" >&2
	exit 1
fi
echo "demo: all 6 host pairs reached each other through tapswitch"
