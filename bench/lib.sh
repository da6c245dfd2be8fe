# shellcheck shell=bash disable=SC2034
# (SC2034: a library - run.sh and backends.sh use its variables.)
#
# lib.sh - helpers of the A/B benchmark harness (bench/run.sh).
#
# Everything the harness makes is named from BENCH_ID (a random "tsb" + 4
# hex digits) and recorded here, so that bench_cleanup, the EXIT trap,
# removes it again also after a failure or a Ctrl-C:
#
#   ns_add NAME...           network namespaces (IPv6 off, lo up)
#   proc_track PID COMM      a process we started, stopped by PID only,
#                            and only while /proc/PID/comm is still COMM
#   bounded SECS OUT CMD...  a command under timeout(1), in the background
#                            so that a signal reaches our trap at once
#
# Results go to a tab-separated file, one figure a line: backend, key,
# value (result), and notes to another (note); report.sh turns them into
# the table, the JSON and the chart.
#
# Rules kept here (DESIGN.md "Tests and lab conventions", and the
# harness's own): no address, route, bridge or switch in the root
# namespace - every switch runs inside a namespace made here; IPv4 only
# from 198.18.0.0/15; every traffic run bounded in count and time;
# processes stopped by PID only, never by name.

set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_TOP=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$BENCH_TOP/$BUILD ;;
esac
TAPSWITCH=$BUILD/tapswitch
TAPSWITCHCTL=$BUILD/tapswitchctl
PKTGEN=$BUILD/bench/pktgen

BENCH_NAMESPACES=()
BENCH_PROCS=()		# "PID:COMM", in start order
BENCH_CUR_PID=		# the bounded command running now, if any
BENCH_TMP=
BENCH_ID=
BENCH_RESULTS=
BENCH_NOTES=
BENCH_LOG=

# ------------------------------------------------------------ messages

log() { printf '%s\n' "$*"; }
# say: a progress line on stderr, so that stdout keeps only the table.
say() { printf '%s\n' "$*" >&2; }

die()
{
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# note BACKEND TEXT: a remark that goes with the results (a skipped
# backend, a figure that could not be measured, a setting worth knowing).
note()
{
	printf '%s\t%s\n' "$1" "$2" >>"$BENCH_NOTES"
	say "  note ($1): $2"
}

# result BACKEND KEY VALUE
result()
{
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$BENCH_RESULTS"
}

# ---------------------------------------------------------------- start

# bench_init: check we can run, name things, set the traps.
bench_init()
{
	local tries
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces, taps, AF_PACKET)"
	[ -c /dev/net/tun ] || die "no /dev/net/tun"
	for tool in ip jq timeout iperf3 ping awk sort; do
		command -v "$tool" >/dev/null 2>&1 ||
			die "no $tool (make bench-deps installs it)"
	done
	[ -x "$PKTGEN" ] || die "$PKTGEN not built (make bench)"

	for ((tries = 0; tries < 20; tries++)); do
		BENCH_ID=tsb$(printf '%04x' $(((RANDOM ^ $$ ^ (RANDOM << 3)) & 0xffff)))
		if ! compgen -G "/run/netns/$BENCH_ID-*" >/dev/null &&
			! ip -o link show | grep -q ": $BENCH_ID"; then
			break
		fi
	done
	BENCH_TMP=$(mktemp -d "/tmp/tapswitch-bench.$BENCH_ID.XXXXXX") ||
		die "mktemp"
	BENCH_RESULTS=$BENCH_TMP/results.tsv
	BENCH_NOTES=$BENCH_TMP/notes.tsv
	BENCH_LOG=$BENCH_TMP/commands.log
	: >"$BENCH_RESULTS"
	: >"$BENCH_NOTES"
	: >"$BENCH_LOG"
	trap bench_cleanup EXIT
	# A signal must still run the EXIT trap, and stop a running command.
	trap 'bench_interrupted 130' INT
	trap 'bench_interrupted 143' TERM
	trap 'bench_interrupted 129' HUP
}

bench_interrupted()
{
	say "bench: interrupted, cleaning up"
	exit "$1"
}

# Is PID alive (not gone, not a zombie) and still the command COMM?
proc_is()
{
	local stat comm
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	[ -z "${2:-}" ] || [ "$comm" = "${2:0:15}" ] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

proc_track() { BENCH_PROCS+=("$1:$2"); }

# proc_stop PID COMM: SIGTERM, wait up to 5 s, then SIGKILL - only while
# PID is still COMM (a PID can be reused once the process has gone).
proc_stop()
{
	local pid=$1 comm=$2 i
	proc_is "$pid" "$comm" || return 0
	kill -s TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		proc_is "$pid" "$comm" || break
		sleep 0.1
	done
	if proc_is "$pid" "$comm"; then
		say "  $comm (pid $pid) ignored SIGTERM for 5 s: SIGKILL"
		kill -s KILL "$pid" 2>/dev/null
	fi
	# Reap it if it is our child; a daemon that detached is init's to
	# reap: give that a moment, so that nothing is left when we are done.
	{ wait "$pid"; } 2>/dev/null
	for ((i = 0; i < 20; i++)); do
		[ -e "/proc/$pid" ] || break
		sleep 0.05
	done
	return 0
}

# proc_stop_all: every tracked process, newest first.
proc_stop_all()
{
	local i entry
	for ((i = ${#BENCH_PROCS[@]} - 1; i >= 0; i--)); do
		entry=${BENCH_PROCS[i]}
		proc_stop "${entry%%:*}" "${entry#*:}"
	done
	BENCH_PROCS=()
}

# proc_stop_pidfiles: daemons that wrote a pidfile in our scratch
# directory but were interrupted before proc_track saw them.
proc_stop_pidfiles()
{
	local f pid comm
	[ -n "$BENCH_TMP" ] || return 0
	for f in "$BENCH_TMP"/*/*.pid "$BENCH_TMP"/*/pid; do
		[ -s "$f" ] || continue
		pid=$(head -n 1 "$f")
		[[ $pid =~ ^[0-9]+$ ]] || continue
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		case $comm in
		ovsdb-server | ovs-vswitchd | vde_switch)
			proc_stop "$pid" "$comm" ;;
		esac
	done
}

bench_cleanup()
{
	local rc=$? ns
	set +e
	trap - INT TERM HUP
	if [ -n "$BENCH_CUR_PID" ]; then
		# timeout(1) passes SIGTERM on to the command it runs.
		kill -s TERM "$BENCH_CUR_PID" 2>/dev/null
		{ wait "$BENCH_CUR_PID"; } 2>/dev/null
	fi
	proc_stop_all
	proc_stop_pidfiles
	for ns in "${BENCH_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
		if [ -n "${BENCH_KEEP_TMP:-}" ]; then
			say "bench: logs kept in $BENCH_TMP"
		else
			rm -rf "$BENCH_TMP"
		fi
	fi
	exit "$rc"
}

# ------------------------------------------------------------ namespaces

# ns_add NAME...: a namespace with IPv6 disabled before any device moves
# in (a moved device takes the namespace's defaults), so hosts stay quiet.
ns_add()
{
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || return 1
		BENCH_NAMESPACES+=("$ns")
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null
		ip -n "$ns" link set lo up
	done
}

# ns_del_all: delete every namespace made so far (between backends).
ns_del_all()
{
	local ns
	for ns in "${BENCH_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	BENCH_NAMESPACES=()
}

# ------------------------------------------------------------- commands

# bounded SECS OUT CMD...: run CMD under timeout(1), stdout to OUT (or
# /dev/null for "-"), stderr to the command log.  In the background and
# waited for, so that Ctrl-C runs our trap at once (bash runs a trap only
# after a foreground command ends).  Returns CMD's status (124: timed out).
bounded()
{
	local secs=$1 out=$2 rc
	shift 2
	[ "$out" = - ] && out=/dev/null
	printf '+ %s\n' "$*" >>"$BENCH_LOG"
	timeout -k 2 "$secs" "$@" >"$out" 2>>"$BENCH_LOG" &
	BENCH_CUR_PID=$!
	wait "$BENCH_CUR_PID"
	rc=$?
	BENCH_CUR_PID=
	return "$rc"
}

# wait_until SECS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until()
{
	local tries=$(($1 * 10))
	shift
	for (( ; tries > 0; tries--)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# log_tail: the last lines of the command log, for a failure note.
log_tail() { tail -n "${1:-5}" "$BENCH_LOG" | tr '\n' ' ' | cut -c1-400; }

# ---------------------------------------------------------------- numbers

# median: the median of the numbers on stdin (one a line), or nothing.
median()
{
	sort -g | awk '{ v[NR] = $1 }
		END {
			if (!NR) exit
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# ------------------------------------------------------------ machine

# deb_version PKG: the installed version of a Debian package, or "".
deb_version()
{
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true
}
