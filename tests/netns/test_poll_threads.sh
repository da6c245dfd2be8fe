#!/bin/bash
#
# test_poll_threads.sh - the same black-box tests with the ports shared
# among fewer poll threads (--poll-threads): the port lifecycle (ports
# added, moved, deleted under the daemon, removed) with two threads for
# four ports, and ping and TCP with offloads with one thread for all.
# Each test runs whole, with its own namespaces and clean-up.
#
set -u
dir=$(dirname "$0")
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces, taps)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }

rc=0
run()
{
	local args=$1 test=$2 out st
	out=$(TS_DAEMON_ARGS=$args bash "$dir/$test" 2>&1)
	st=$?
	if [ "$st" = 0 ]; then
		echo "ok - $test with $args"
	else
		echo "FAIL: $test with $args (exit status $st):"
		printf '%s\n' "$out" | sed 's/^/    /'
		rc=1
	fi
}

run "--poll-threads 2" test_ports.sh
run "--poll-threads 1" test_ping.sh
run "--poll-threads 1" test_offload.sh
run "--poll-threads 1 --io syscall" test_forwarding.sh
exit "$rc"
