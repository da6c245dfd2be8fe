#!/bin/bash
#
# test_io_buffers.sh - with io_uring, a poll thread registers its ports'
# receive buffers with its ring (reads and writes without importing user
# pages); where it cannot - no CAP_IPC_LOCK and 1 MiB of locked memory,
# enough for the rings but not the buffers, as for a daemon that is not
# root - it uses plain buffers.  `port show` says which (io_buffers), and
# forwarding works either way: ping between two hosts here, and the
# TCP-with-offloads test run again on plain buffers.
#
#   bash test_io_buffers.sh                the three runs below
#   TS_IO_EXPECT=registered|plain bash test_io_buffers.sh   one of them
#
set -u
dir=$(dirname "$0")

if [ -z "${TS_IO_EXPECT:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, taps)"; exit 77; }
	[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
	if ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null; then
		echo "SKIP: no setpriv or prlimit (util-linux)"
		exit 77
	fi
	wrap="setpriv --inh-caps -ipc_lock --bounding-set -ipc_lock"
	wrap+=" prlimit --memlock=1048576:1048576"
	rc=0 skipped=0
	run()
	{
		local what=$1 out st
		shift
		out=$(env "$@" 2>&1)
		st=$?
		case $st in
		0) echo "ok - $what" ;;
		77) echo "skip - $what: $out"; skipped=1 ;;
		*)
			echo "FAIL: $what (exit status $st):"
			printf '%s\n' "$out" | sed 's/^/    /'
			rc=1
			;;
		esac
	}
	# Registered buffers need CAP_IPC_LOCK (bit 14), or a locked-memory
	# limit above 4 MiB a port: a container may give root neither.
	capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
	if (((0x$capeff >> 14) & 1)); then
		run "registered buffers as root" TS_IO_EXPECT=registered \
			TS_DAEMON_WRAP= bash "$dir/test_io_buffers.sh"
	else
		echo "skip - registered buffers: no CAP_IPC_LOCK here"
		skipped=1
	fi
	run "plain buffers without CAP_IPC_LOCK" TS_IO_EXPECT=plain \
		TS_DAEMON_WRAP="$wrap" bash "$dir/test_io_buffers.sh"
	run "TCP with offloads on plain buffers" TS_IO_EXPECT=plain \
		TS_DAEMON_WRAP="$wrap" bash "$dir/test_offload.sh"
	[ "$rc" = 0 ] && [ "$skipped" = 1 ] && exit 77
	exit "$rc"
fi

set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$dir/lib.sh"
ts_init
command -v ping >/dev/null 2>&1 || skip "no ping"
trap cleanup EXIT

# hosts_setup checks io_buffers against $TS_IO_EXPECT (io_expect).
hosts_setup 2

for i in 0 1; do
	ip -n "${HOSTS[i]}" addr add "198.18.0.$((i + 1))/24" dev "${TAPS[i]}"
done
ip netns exec "${HOSTS[0]}" timeout 10 ping -n -q -c 5 -i 0.2 -w 5 \
	198.18.0.2 >"$TS_TMP/ping" 2>&1 ||
	fail "no ping on $TS_IO_EXPECT buffers:$(printf '\n'; cat "$TS_TMP/ping")"
ok "ping on $TS_IO_EXPECT buffers"
assert_ge "${TAPS[1]} tx_packets" 5 "$(port_stat "${TAPS[1]}" tx_packets)"
daemon_alive || fail "tapswitch died"
ts_done
