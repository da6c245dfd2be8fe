# shellcheck shell=bash disable=SC2016,SC2034,SC2119,SC2120
# (SC2034, SC2119, SC2120: a library - the tests use its variables, and
# call its functions with and without arguments.  SC2016: its jq filters,
# given to ts_jq in single quotes, hold jq's variables, not the shell's.)
#
# lib.sh - shared helpers for the black-box tests of tapswitch.
#
# A test sources this file, calls ts_init, and sets `trap cleanup EXIT`.
# Everything it makes is named from TS_ID (a random "ts" + 4 hex digits)
# and recorded here, so that cleanup() removes it again also when the test
# fails half-way:
#
#   ns_add NAME...            network namespaces, IPv6 off, lo up
#   daemon_start [ARGS...]    $BUILD/tapswitch --ctl $TS_SOCK ARGS
#                             $TS_DAEMON_ARGS, by PID (run through
#                             $TS_DAEMON_WRAP, when set)
#   pretap_add NAME           a persistent tap made before the daemon (the
#                             one thing created in the root namespace)
#   hosts_setup N [ARGS...]   all of the usual topology: N host namespaces,
#                             the daemon with N taps, each moved into its
#                             host, forwarding, table empty, pktio ready
#   kbridge_add BRNS HOST...  the reference: a Linux bridge in BRNS with a
#                             veth port to each host namespace
#
# Assertions: assert_eq/assert_ge/assert_json/assert_delta stop the test
# at the first mismatch, printing what was expected and what came;
# check_eq/check_json report and go on (ts_done exits 1 at the end).
# Each of them, ok, xfer and xfer_as is counted (TS_ASSERT_LOG, set by
# tests/run.sh), so that a test that asserted nothing cannot pass.
# A test that cannot run here (not root, no /dev/net/tun) exits 77 after
# a "SKIP: reason" line.
#
# The helpers that read the switch (ctl, ctlj, port_field, fdb_port, ...)
# fail the test when tapswitchctl fails or answers something that is not
# what they read, also inside "$( )" (see helper_fail); ctl_may_fail is
# the one way to run a command that is meant to fail.
#
# Rules these helpers keep (DESIGN.md "Tests and lab conventions"): no
# address, route or bridge in the root namespace; every device the test
# configures lives in a namespace it made; every wait and every traffic
# run is bounded; processes are stopped by PID only.
#
# The daemon is driven only through tapswitchctl, and its answers are read
# from -j JSON with jq, never from text.  Frames are sent and captured with
# $BUILD/tests/tools/pktio; see xfer() for the usual assertion.

set -o pipefail
shopt -s inherit_errexit

TS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$TS_TOP/$BUILD ;;
esac
TAPSWITCH=$BUILD/tapswitch
# TS_TAPSWITCHCTL: another client in its place (test_selfcheck.sh runs
# suites with a broken one, to see them fail).
TAPSWITCHCTL=${TS_TAPSWITCHCTL:-$BUILD/tapswitchctl}
PKTIO=$BUILD/tests/tools/pktio

# How long pktio listens after each frame.  Long enough for a sanitizer
# build; it also bounds how long we wait to see that a frame did NOT come.
PKT_SETTLE=${PKT_SETTLE:-150}

TS_NAMESPACES=()
TS_PRETAPS=()
TS_DAEMON_PID=
TS_DAEMON_STATUS=
TS_TMP=
TS_CLEANING=
PKT_IFS=()

# ---------------------------------------------------------------- basics

# ts_count KIND: one assertion made.  tests/run.sh gives every test an
# empty TS_ASSERT_LOG and fails one that exits 0 with nothing in it: a
# test that asserted nothing (its checks skipped by mistake, or a wrapper
# that ran nothing) must not pass.
ts_count()
{
	if [ -n "${TS_ASSERT_LOG:-}" ]; then
		printf '%s\n' "$1" >>"$TS_ASSERT_LOG"
	fi
	return 0
}

log() { printf '%s\n' "$*"; }

ok()
{
	ts_count ok
	printf 'ok - %s\n' "$*"
}

fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

skip()
{
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# helper_fail MESSAGE: a helper cannot give what it was asked for (its
# command failed, or answered something it cannot read): fail the test.
# Helpers mostly run inside "$( )", a subshell, where exit ends only the
# subshell and the assertion around it would compare an empty answer -
# which an expected "" accepts.  So the failure is written down first
# ($TS_TMP/helper-failures, which cleanup and ts_done check: it cannot be
# lost), and then the test's own shell ($$) is sent SIGUSR1, whose trap
# stops the test at once (helper_stop).  In the test's shell itself,
# exit is enough.
helper_fail()
{
	local i n=${#FUNCNAME[@]} msg=$* via=
	# Where: the helpers called, innermost first, and the test's line.
	for ((i = 1; i < n - 1; i++)); do
		via+="${FUNCNAME[i]} < "
	done
	msg+=" (${via}${BASH_SOURCE[n - 1]##*/} line ${BASH_LINENO[n - 2]})"
	printf 'FAIL: %s\n' "$msg" >&2
	if [ -n "$TS_TMP" ] && [ -d "$TS_TMP" ]; then
		printf '%s\n' "$msg" >>"$TS_TMP/helper-failures"
	fi
	if [ "$BASHPID" != "$$" ]; then
		kill -s USR1 "$$" 2>/dev/null
	fi
	exit 1
}

# helper_stop: the SIGUSR1 trap of the test's shell (set here, so that it
# is there before any helper runs).  Once cleanup has begun, it lets
# cleanup finish: cleanup reads helper-failures itself.
helper_stop()
{
	local what=
	[ -z "$TS_CLEANING" ] || return 0
	if [ -n "$TS_TMP" ]; then
		what=$(tail -n 1 "$TS_TMP/helper-failures" 2>/dev/null)
	fi
	printf 'FAIL: the test stops here, a helper failed: %s\n' \
		"${what:-(see above)}" >&2
	exit 1
}
trap helper_stop USR1

# helper_failed: did a helper fail (and write it down) in this test?
helper_failed() { [ -n "$TS_TMP" ] && [ -s "$TS_TMP/helper-failures" ]; }

# ts_jq WHAT JQ_ARGS...: jq on stdin (or -n), which must succeed: a filter
# that does not fit the answer (an object where it maps an array, a key
# it needs missing: error(...)) fails the test, as a failed command does.
ts_jq()
{
	local what=$1 rc=0
	shift
	jq "$@" || rc=$?
	[ "$rc" = 0 ] || helper_fail "$what: jq cannot read the answer (status $rc)"
}

# assert_eq WHAT EXPECTED GOT
assert_eq()
{
	ts_count assert_eq
	if [ "$2" != "$3" ]; then
		printf 'FAIL: %s\n  expected: %s\n  got:      %s\n' \
			"$1" "$2" "$3" >&2
		exit 1
	fi
}

# assert_ge WHAT MIN GOT: GOT is a number >= MIN
assert_ge()
{
	ts_count assert_ge
	if ! [[ $3 =~ ^[0-9]+$ ]] || [ "$3" -lt "$2" ]; then
		printf 'FAIL: %s\n  expected: >= %s\n  got:      %s\n' \
			"$1" "$2" "$3" >&2
		exit 1
	fi
}

# assert_json WHAT JSON JQ_FILTER: the filter must yield true for JSON.
assert_json()
{
	ts_count assert_json
	# jq -e exits 0 on empty input: that must not pass.
	if [ -z "$2" ] || ! printf '%s' "$2" | jq -e "$3" >/dev/null 2>&1; then
		printf 'FAIL: %s\n  expected: jq %s\n  got:      %s\n' \
			"$1" "$3" "$2" >&2
		exit 1
	fi
}

# Checks that report and go on, for tests made of many independent
# checks (test_cli.sh): check_* print the same FAIL lines as assert_*,
# always return 0 (set -e), and ts_done at the end exits 1 if any failed.
TS_FAILED=0

check_eq()
{
	ts_count check_eq
	if [ "$2" != "$3" ]; then
		printf 'FAIL: %s\n  expected: %s\n  got:      %s\n' \
			"$1" "$2" "$3" >&2
		TS_FAILED=1
	fi
	return 0
}

check_json()
{
	ts_count check_json
	if [ -z "$2" ] || ! printf '%s' "$2" | jq -e "$3" >/dev/null 2>&1; then
		printf 'FAIL: %s\n  expected: jq %s\n  got:      %s\n' \
			"$1" "$3" "$2" >&2
		TS_FAILED=1
	fi
	return 0
}

ts_done()
{
	TS_DONE=1
	if helper_failed; then
		echo "FAIL: a helper failed (see above)" >&2
		exit 1
	fi
	if [ "$TS_FAILED" != 0 ]; then
		echo "FAIL: some checks failed (see above)" >&2
		exit 1
	fi
}

# Is PID a live process (not gone, not a zombie waiting to be reaped)?
pid_alive()
{
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# ts_init [--no-daemon]: skip unless we can make namespaces and taps;
# name things.  --no-daemon: the test needs only pktio and the kernel.
ts_init()
{
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, taps)"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	local tool
	for tool in ip jq timeout; do
		command -v "$tool" >/dev/null 2>&1 || skip "no $tool"
	done
	[ -x "$PKTIO" ] || fail "$PKTIO not built (make binaries)"
	if [ "${1:-}" != --no-daemon ]; then
		for tool in "$TAPSWITCH" "$TAPSWITCHCTL"; do
			[ -x "$tool" ] || fail "$tool not built (make binaries)"
		done
	fi

	# Four random hex digits; ts + 4 + a short suffix fits IFNAMSIZ.
	# Pick again if a namespace or device of that name is around.
	local tries
	for ((tries = 0; tries < 20; tries++)); do
		TS_ID=ts$(printf '%04x' $(((RANDOM ^ $$ ^ (RANDOM << 3)) & 0xffff)))
		if ! compgen -G "/run/netns/$TS_ID-*" >/dev/null &&
			! ip -o link show | grep -q ": $TS_ID"; then
			break
		fi
	done
	TS_TMP=$(mktemp -d "/tmp/tapswitch-test.$TS_ID.XXXXXX")
	TS_SOCK=$TS_TMP/ctl.sock
	TS_LOG=$TS_TMP/daemon.log
	# A signal (the runner's timeout) must still run the EXIT trap.
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
}

# cleanup: the EXIT trap of every test.  Stops the daemon, deletes the
# namespaces (and with them every device in them) and the pre-made taps.
cleanup()
{
	local rc=$? ns tap
	set +e
	TS_CLEANING=1
	# A helper that failed in a subshell fails the test, also if its
	# signal came too late to stop it.
	if [ "$rc" = 0 ] && helper_failed; then
		echo "FAIL: a helper failed:" >&2
		sed 's/^/  /' "$TS_TMP/helper-failures" >&2
		rc=1
	fi
	# A check that failed fails the test however it ended; and a test
	# that exits 0 must have come to its end (ts_done), not left half of
	# itself unrun.
	if [ "$rc" = 0 ] && [ "${TS_FAILED:-0}" != 0 ]; then
		echo "FAIL: some checks failed (see above)" >&2
		rc=1
	fi
	if [ "$rc" = 0 ] && [ -z "${TS_DONE:-}" ]; then
		echo "FAIL: the test exited 0 before its end (ts_done)" >&2
		rc=1
	fi
	if [ -n "$TS_DAEMON_PID" ]; then
		daemon_stop
		# A daemon that does not exit 0 on SIGTERM (a sanitizer
		# report, a crash at shutdown) fails the test.
		if [ "$TS_DAEMON_STATUS" != 0 ] && [ "$rc" = 0 ]; then
			echo "FAIL: tapswitch exited with status $TS_DAEMON_STATUS on SIGTERM" >&2
			rc=1
		fi
	fi
	if [ "$rc" = 0 ] && [ -s "$TS_LOG" ] &&
		grep -qE 'Sanitizer|runtime error:' "$TS_LOG"; then
		echo "FAIL: a sanitizer report in the daemon's output" >&2
		rc=1
	fi
	for ns in "${TS_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for tap in "${TS_PRETAPS[@]}"; do
		# Still in the root namespace only if the test failed before
		# moving it; otherwise it went with its namespace.
		if ip link show dev "$tap" >/dev/null 2>&1; then
			ip tuntap del mode tap name "$tap" 2>/dev/null
		fi
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -s "$TS_LOG" ]; then
		echo "--- daemon output (last 40 lines) ---" >&2
		tail -n 40 "$TS_LOG" >&2
	fi
	[ -n "$TS_TMP" ] && rm -rf "$TS_TMP"
	exit "$rc"
}

# ------------------------------------------------------------ namespaces

# ns_add NAME...: a namespace with IPv6 disabled before any device moves
# in (a moved device takes the namespace's defaults), so hosts stay quiet.
ns_add()
{
	local ns
	for ns in "$@"; do
		ip netns add "$ns" || fail "ip netns add $ns"
		TS_NAMESPACES+=("$ns")
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
}

# tap_to_ns TAP NS: move a tap (made by the daemon in the root namespace)
# into a host namespace at once, and bring it up there.
tap_to_ns()
{
	ip link set dev "$1" netns "$2" || fail "cannot move $1 into $2"
	ip -n "$2" link set dev "$1" up || fail "cannot bring $1 up in $2"
}

# pretap_add NAME: a persistent tap that exists before the daemon attaches
# to it.  Creating it in the root namespace cannot be avoided; it is moved
# away right after the daemon attached, and deleted by cleanup.
pretap_add()
{
	TS_PRETAPS+=("$1")
	ip tuntap add mode tap name "$1" || fail "ip tuntap add $1"
}

# ---------------------------------------------------------------- daemon

# ctl ARGS: tapswitchctl ARGS, which must succeed (its output as it is);
# a non-zero exit fails the test, also inside "$( )" (helper_fail).
ctl()
{
	local rc=0
	"$TAPSWITCHCTL" --ctl "$TS_SOCK" "$@" || rc=$?
	[ "$rc" = 0 ] || helper_fail "tapswitchctl $*: exit status $rc"
}

# ctl_at SOCK ARGS: ctl for the daemon behind another socket (a second
# switch in the same test).
ctl_at()
{
	local sock=$1 rc=0
	shift
	"$TAPSWITCHCTL" --ctl "$sock" "$@" || rc=$?
	[ "$rc" = 0 ] ||
		helper_fail "tapswitchctl --ctl $sock $*: exit status $rc"
}

# ctl_may_fail ARGS: tapswitchctl ARGS as it is, its exit status returned:
# for the error paths (a command that must fail, judged by the caller)
# and for waiting until the daemon answers.  Nothing else uses it.
ctl_may_fail() { "$TAPSWITCHCTL" --ctl "$TS_SOCK" "$@"; }

# json_check WHAT TEXT: TEXT is JSON (one value or more), not nothing.
json_check()
{
	[[ $2 == *[![:space:]]* ]] ||
		helper_fail "$1 printed nothing (JSON expected)"
	printf '%s' "$2" | jq empty >/dev/null 2>&1 ||
		helper_fail "$1 printed no valid JSON: \"$(printf '%s' "$2" |
			head -c 200)\""
}

# ctlj ARGS: -j output of a command that must succeed and answer JSON.
ctlj()
{
	local out rc=0
	out=$("$TAPSWITCHCTL" --ctl "$TS_SOCK" -j "$@") || rc=$?
	[ "$rc" = 0 ] || helper_fail "tapswitchctl -j $*: exit status $rc"
	json_check "tapswitchctl -j $*" "$out"
	printf '%s\n' "$out"
}

# daemon_start [ARGS...]: start tapswitch in the background and wait (5 s
# at most) until it answers `show`.
daemon_start()
{
	local i
	[ -z "$TS_DAEMON_PID" ] || fail "daemon_start: a daemon is running"
	TS_DAEMON_STATUS=
	# TS_DAEMON_WRAP: commands that exec the daemon in the end (setpriv,
	# prlimit), so that the PID is the daemon's.
	# shellcheck disable=SC2086 # TS_DAEMON_WRAP/_ARGS: words, on purpose
	${TS_DAEMON_WRAP:-} "$TAPSWITCH" --ctl "$TS_SOCK" "$@" \
		${TS_DAEMON_ARGS:-} >>"$TS_LOG" 2>&1 &
	TS_DAEMON_PID=$!
	for ((i = 0; i < 50; i++)); do
		if ctl_may_fail show >/dev/null 2>&1; then
			return 0
		fi
		pid_alive "$TS_DAEMON_PID" ||
			fail "tapswitch $* exited at start-up:$(printf '\n'; cat "$TS_LOG")"
		sleep 0.1
	done
	fail "tapswitch $* does not answer on $TS_SOCK after 5 s"
}

# daemon_stop [SIGNAL]: SIGTERM (or SIGNAL), wait up to 5 s, then SIGKILL.
# Sets TS_DAEMON_STATUS to its exit status (128+n if killed by signal n).
daemon_stop()
{
	local pid=$TS_DAEMON_PID i
	[ -n "$pid" ] || return 0
	kill -s "${1:-TERM}" "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	if pid_alive "$pid"; then
		echo "tapswitch (pid $pid) ignored SIG${1:-TERM} for 5 s: SIGKILL" >&2
		kill -s KILL "$pid" 2>/dev/null
	fi
	TS_DAEMON_STATUS=0
	# (braces: so that bash's "Killed" notice goes to /dev/null too)
	{ wait "$pid"; } 2>/dev/null || TS_DAEMON_STATUS=$?
	TS_DAEMON_PID=
}

daemon_alive() { [ -n "$TS_DAEMON_PID" ] && pid_alive "$TS_DAEMON_PID"; }

# ------------------------------------------------------ reading the JSON
#
# Each of these reads one answer of ctlj (which fails the test when
# tapswitchctl fails or prints no JSON) through ts_jq (which fails it when
# the answer has not the shape the filter reads), so that "" can only
# come out of them when the switch really said so.

# port_field TAP KEY: a key of TAP's object in `-j port show`, or "absent"
# if there is no such port; a port without KEY fails.
port_field()
{
	ctlj port show | ts_jq "port_field $*" -r --arg n "$1" --arg k "$2" \
		'(map(select(.ifname == $n)) | first) as $p |
		 if $p == null then "absent"
		 elif ($p | has($k)) then $p[$k] | tostring
		 else error("port \($n) has no \"\($k)\"") end'
}

# port_stat TAP COUNTER: one counter from `-j -s port show` (a number).
port_stat()
{
	ctlj -s port show | ts_jq "port_stat $*" -r --arg n "$1" --arg k "$2" \
		'(map(select(.ifname == $n)) | first | .stats[$k]) as $v |
		 if ($v | type) == "number" then $v | tostring
		 else error("port \($n): stats.\($k) is \($v | tojson)") end'
}

# port_names: the ifnames in `-j port show`, sorted, on one line.
port_names()
{
	ctlj port show | ts_jq port_names -r 'map(.ifname) | sort | join(" ")'
}

# sw_field KEY / sw_stat COUNTER: from `-j show`.  The counters are read
# with -s as well, so that only test_cli.sh judges whether `-j show`
# alone carries them.
sw_field()
{
	ctlj show | ts_jq "sw_field $1" -r --arg k "$1" \
		'if has($k) then .[$k] | tostring
		 else error("-j show has no \"\($k)\"") end'
}
sw_stat()
{
	ctlj -s show | ts_jq "sw_stat $1" -r --arg k "$1" \
		'.stats[$k] as $v | if ($v | type) == "number" then $v | tostring
		 else error("stats.\($k) is \($v | tojson)") end'
}

# fdb_port MAC: the ifname(s) MAC is on, space separated; "" if none.
fdb_port()
{
	ctlj fdb show | ts_jq "fdb_port $1" -r --arg m "$1" \
		'map(select(.mac == $m) | .ifname) | join(" ")'
}

# fdb_flags MAC: the flags of MAC's entry, sorted, comma separated.
fdb_flags()
{
	ctlj fdb show | ts_jq "fdb_flags $1" -r --arg m "$1" \
		'map(select(.mac == $m) | .flags | sort | join(",")) | join(" ")'
}

# sorted WORD...: the words sorted, on one line (to compare with fdb_macs).
sorted() { printf '%s\n' "$@" | LC_ALL=C sort | paste -sd ' ' -; }

# fdb_macs [dev TAP]: the MACs in the table, sorted, space separated.
fdb_macs()
{
	ctlj fdb show "$@" | ts_jq "fdb_macs $*" -r 'map(.mac) | .[]' |
		LC_ALL=C sort | paste -sd ' ' -
}

# wait_port_state TAP STATE [SECONDS]: poll `-j port show` (5 s default).
wait_port_state()
{
	local tap=$1 want=$2 tries=$((${3:-5} * 10)) got
	for ((; tries > 0; tries--)); do
		got=$(port_field "$tap" state)
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	fail "port $tap: state expected \"$want\", got \"$got\" after ${3:-5} s"
}

wait_forwarding() { wait_port_state "$1" forwarding "${2:-5}"; }

# settle_fdb: forget what was learned while the taps were still in the
# root namespace (its IPv6 sends a few frames from a tap that comes up
# there), so that a test starts from an empty table.
settle_fdb()
{
	ctl fdb flush >/dev/null || fail "fdb flush"
	assert_eq "fdb after flush" "" "$(fdb_macs)"
}

# ---------------------------------------------------------------- frames

# pkt_ifs NS:IFNAME...: the interfaces pktio opens, in index order.
pkt_ifs() { PKT_IFS=("$@"); }

# pkt_run: run pktio on PKT_IFS with the commands on stdin.  (It runs in
# "$( )" and pipelines: a failure is a helper's, helper_fail.)
pkt_run()
{
	[ "${#PKT_IFS[@]}" -gt 0 ] ||
		helper_fail "pkt_run: no interfaces (pkt_ifs)"
	timeout 60 "$PKTIO" -w "$PKT_SETTLE" "${PKT_IFS[@]}" ||
		helper_fail "pktio ${PKT_IFS[*]} failed"
}

# mac_hex 02:00:00:00:00:01 -> 020000000001
mac_hex()
{
	local m=${1//:/}
	printf '%s' "${m,,}"
}

# frame DST SRC SEQ [LEN]: an Ethernet frame in hex: experimental
# ethertype 0x88b5, payload "ts" + 32-bit sequence number, zero padding
# up to LEN bytes (default 60, the minimum without FCS).
frame()
{
	local len=${4:-60} hex
	hex=$(mac_hex "$1")$(mac_hex "$2")88b57473$(printf '%08x' "$3")
	while [ "${#hex}" -lt $((len * 2)) ]; do
		hex+=00
	done
	printf '%s' "${hex:0:$((len * 2))}"
}

# xfer IN HEX [OUT...]: send HEX on pktio interface IN and assert that
# exactly the interfaces OUT received it, once each, and nothing else
# arrived anywhere.
xfer()
{
	local in=$1 hex=$2 j expect got
	shift 2
	ts_count xfer
	expect=
	for j in "$@"; do
		expect+="rx $j $hex"$'\n'
	done
	expect+=.
	got=$(printf 'send %s %s\n' "$in" "$hex" | pkt_run)
	if [ "$got" != "$expect" ]; then
		printf 'FAIL: frame %s sent on %s (%s)\n' "$hex" "$in" \
			"${PKT_IFS[$in]}" >&2
		printf '  expected on: %s\n' "${*:-nothing}" >&2
		printf '  pktio printed:\n%s\n' "$got" | sed 's/^/    /' >&2
		exit 1
	fi
}

# ------------------------------------------------------------ TCP checks

# tcp_xfer FROM_NS TO_NS TO_ADDR BYTES: a bounded transfer of BYTES
# pseudo-random bytes (a new seed each time), which must arrive whole and
# unchanged (tests/tools/tcpxfer hashes both ends); 30 s at most.
TS_XFER_SEED=1
tcp_xfer()
{
	local from=$1 to=$2 addr=$3 bytes=$4 srv i sent got
	local tool=$BUILD/tests/tools/tcpxfer
	[ -x "$tool" ] || fail "$tool not built (make binaries)"
	TS_XFER_SEED=$((TS_XFER_SEED + 1))
	ip netns exec "$to" "$tool" recv "$addr" 5201 30 \
		>"$TS_TMP/xfer-r" 2>&1 &
	srv=$!
	for ((i = 0; i < 50; i++)); do
		grep -qs listening "$TS_TMP/xfer-r" && break
		sleep 0.1
	done
	if ! sent=$(ip netns exec "$from" "$tool" send "$addr" 5201 \
		"$bytes" "$TS_XFER_SEED" 30 2>&1); then
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
		fail "transfer $from -> $addr: $sent"
	fi
	wait "$srv" || fail "receiver in $to: $(cat "$TS_TMP/xfer-r")"
	got=$(tail -n 1 "$TS_TMP/xfer-r")
	assert_eq "$from -> $addr: bytes and hash received" "$sent" "$got"
}

# csum_errors NS: TcpInCsumErrors of namespace NS.
csum_errors()
{
	ip netns exec "$1" nstat -az TcpInCsumErrors |
		awk '/TcpInCsumErrors/ {print $2}'
}

# ------------------------------------------------------- a kernel bridge

# kbridge_add BRNS HOSTNS...: the reference switch - a Linux bridge in BRNS
# (STP off, no multicast snooping) with one veth port per host namespace,
# whose peer "v0", "v1", ... is in that host namespace and up.  Port and
# bridge MACs are fixed (02:b0:...) so they cannot collide with test MACs.
kbridge_add()
{
	local brns=$1 i=0 h
	shift
	ip -n "$brns" link add br0 address 02:b0:00:00:00:ff type bridge \
		stp_state 0 mcast_snooping 0 || fail "cannot make br0"
	ip -n "$brns" link set br0 up
	# A plain bridge: br_netfilter (active on this kernel, with per-netns
	# switches) would pass bridged IPv4/IPv6/ARP through iptables and drop
	# what does not parse; tapswitch has no such thing.
	ip netns exec "$brns" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
	for h in "$@"; do
		ip -n "$brns" link add "p$i" address "02:b0:00:00:00:0$i" \
			type veth peer name "v$i" netns "$h" ||
			fail "cannot make veth p$i/v$i"
		ip -n "$brns" link set "p$i" master br0 up
		ip -n "$h" link set "v$i" up
		i=$((i + 1))
	done
	# A port forwards once its carrier is up; wait for all of them.
	for ((i = 0; i < 50; i++)); do
		if ! ip -n "$brns" -j link show master br0 |
			jq -e 'any(.[]; .operstate != "UP")' >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "bridge ports in $brns not up after 5 s"
}

# ------------------------------------------------- the usual topology

# xdp_probe: skip the test (exit 77, with the reason) unless a daemon can
# attach an afxdp port here: a veth in a scratch namespace, tried once.
xdp_probe()
{
	local ns=$TS_ID-xp sock=$TS_TMP/xp.sock pid i
	ns_add "$ns"
	ip -n "$ns" link add xp0 type veth peer name xp1 ||
		fail "cannot make a veth in $ns"
	ip netns exec "$ns" "$TAPSWITCH" --ctl "$sock" --port xp0,type=afxdp \
		>"$TS_TMP/xp.log" 2>&1 &
	pid=$!
	for ((i = 0; i < 50; i++)); do
		"$TAPSWITCHCTL" --ctl "$sock" show >/dev/null 2>&1 && break
		pid_alive "$pid" || break
		sleep 0.1
	done
	if ! pid_alive "$pid"; then
		wait "$pid" 2>/dev/null || true
		skip "no AF_XDP port here: $(grep -m1 Error "$TS_TMP/xp.log")"
	fi
	kill -s TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
}

# veth_add NAME HOSTNS: a veth pair, NAME in SW_NS (for the switch, left
# down: attaching brings it up) and its peer NAME in HOSTNS, up.
veth_add()
{
	ip -n "$SW_NS" link add "$1" type veth peer name "$1" netns "$2" ||
		fail "cannot make veth $1 in $SW_NS and $2"
	ip -n "$2" link set dev "$1" up || fail "cannot bring $1 up in $2"
}

# hosts_setup N [DAEMON_ARGS...]: N host namespaces HOSTS[i] ($TS_ID-hi),
# tapswitch started with N ports TAPS[i] (${TS_ID}ti), each tap moved into
# its host namespace and forwarding, the table empty, and pktio interface
# i = TAPS[i] in HOSTS[i].
#
# TS_PORT_KIND=afpacket (or any kind but tap) builds the same topology on
# veth pairs instead: the daemon runs in a namespace of its own, SW_NS
# ($TS_ID-sw), each port is the veth TAPS[i] there, attached as that kind,
# and its peer of the same name is in HOSTS[i] - so a test written for
# taps runs unchanged on every kind (tests/netns/test_kinds.sh).
hosts_setup()
{
	local n=$1 i args=() kind=${TS_PORT_KIND:-tap}
	shift
	HOSTS=()
	TAPS=()
	for ((i = 0; i < n; i++)); do
		HOSTS+=("$TS_ID-h$i")
		TAPS+=("${TS_ID}t$i")
		if [ "$kind" = tap ]; then
			args+=(--port "${TS_ID}t$i")
		else
			args+=(--port "${TS_ID}t$i,type=$kind")
		fi
	done
	[ "$kind" != afxdp ] || xdp_probe
	ns_add "${HOSTS[@]}"
	if [ "$kind" != tap ]; then
		SW_NS=$TS_ID-sw
		ns_add "$SW_NS"
		for ((i = 0; i < n; i++)); do
			veth_add "${TAPS[i]}" "${HOSTS[i]}"
			# An XDP frame carries no checksum offload: the
			# hosts complete their own (README, "Port kinds").
			[ "$kind" != afxdp ] ||
				ip netns exec "${HOSTS[i]}" ethtool -K \
					"${TAPS[i]}" tx off >/dev/null ||
				fail "ethtool -K ${TAPS[i]} tx off"
		done
		TS_DAEMON_WRAP="ip netns exec $SW_NS ${TS_DAEMON_WRAP:-}"
	fi
	daemon_start "${args[@]}" "$@"
	PKT_IFS=()
	for ((i = 0; i < n; i++)); do
		[ "$kind" != tap ] || tap_to_ns "${TAPS[i]}" "${HOSTS[i]}"
		PKT_IFS+=("${HOSTS[i]}:${TAPS[i]}")
	done
	for ((i = 0; i < n; i++)); do
		wait_forwarding "${TAPS[i]}"
	done
	settle_fdb
	[ -z "${TS_IO_EXPECT:-}" ] || io_expect "$TS_IO_EXPECT"
}

# io_expect registered|plain: every port's poll thread runs on io_uring,
# with its receive buffers registered or plain (skip without io_uring).
io_expect()
{
	local ports
	ports=$(ctlj port show)
	jq -e 'all(.[]; .io == "uring")' <<<"$ports" >/dev/null ||
		skip "the poll threads do not run on io_uring here"
	assert_json "every port on $1 receive buffers" "$ports" \
		"all(.[]; .io_buffers == \"$1\")"
}

# ------------------------------------------------------------ counters

# stats_save: remember every port's counters, for stat_delta.
# (ctlj has failed the test itself; "|| exit 1" stops the caller here
# rather than going on with an empty answer.)
stats_save()
{
	TS_STATS=$(ctlj -s port show) || exit 1
}

# stat_delta TAP COUNTER: how much COUNTER of TAP grew since stats_save
# (an integer: a port or counter missing then or now fails the test).
stat_delta()
{
	local now d
	now=$(ctlj -s port show) || exit 1
	d=$(ts_jq "stat_delta $*" -rn --argjson a "${TS_STATS:-null}" \
		--argjson b "$now" --arg n "$1" --arg k "$2" \
		'($b | map(select(.ifname == $n)) | first | .stats[$k]) -
		 ($a | map(select(.ifname == $n)) | first | .stats[$k])') ||
		exit 1
	[[ $d =~ ^-?[0-9]+$ ]] ||
		helper_fail "stat_delta $*: \"$d\" is no number"
	printf '%s\n' "$d"
}

# assert_delta TAP COUNTER N: COUNTER of TAP grew by exactly N.
assert_delta()
{
	assert_eq "$1 stats.$2 grew by" "$3" "$(stat_delta "$1" "$2")"
}

# ------------------------------------------------ watching the switch
#
# Helpers for the tests of capture, trace, explain, dump and monitor
# (test_capture*.sh, test_trace.sh, test_monitor.sh, test_streams.sh):
#
#   bg_track PID              stop PID (by PID) when the test exits
#   cleanup_bg                the EXIT trap of a test that starts
#                             background processes: stops each one
#                             bg_track recorded, by PID, then cleanup
#   bg_stop_all               the same stop in the middle of a test,
#                             which goes on (never call cleanup_bg
#                             there: it ends the test)
#   stream_start FILE ARGS... tapswitchctl ARGS in the background, its
#                             stdout in FILE (stderr in FILE.err); sets
#                             STREAM_PID and returns once the daemon has
#                             the stream on (stream_ready)
#   stream_wait PID [SECONDS] wait for a stream client to end by itself
#   stream_released PID       wait until the daemon has let go of PID's
#                             connection (its session ended)
#   pcap_frames FILE          one line a frame of a pcap file, read back
#                             with tshark: "LEN CAPLEN EPOCH HEX"
#   xfer_as IN HEX J=HEX_J... xfer, where a receiver gets another frame
#                             (a tag pushed or popped on the way)
#   link_stat NS IF DIR KEY   a kernel counter of a host's interface

TS_BG_PIDS=()
declare -A TS_STREAM_PEER=()

# bg_track PID: stop PID (SIGTERM, by PID) when the test exits.
bg_track() { TS_BG_PIDS+=("$1"); }

cleanup_bg()
{
	local rc=$?
	set +e
	TS_CLEANING=1
	bg_stop_all
	(exit "$rc")
	cleanup
}

# bg_stop_all: stop every process bg_track recorded (SIGTERM, by PID; 3 s
# later SIGKILL), and forget them.  The test goes on (cleanup_bg, the
# EXIT trap, ends it).
bg_stop_all()
{
	local pid i
	# (Under set -e: a process already gone is no error.)
	for pid in "${TS_BG_PIDS[@]}"; do
		kill -s TERM "$pid" 2>/dev/null || true
	done
	for pid in "${TS_BG_PIDS[@]}"; do
		for ((i = 0; i < 30; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			kill -s KILL "$pid" 2>/dev/null || true
		fi
		{ wait "$pid"; } 2>/dev/null || true
	done
	TS_BG_PIDS=()
	return 0
}

# sock_inode PID: the inode of the (first) socket PID holds, or "".
sock_inode()
{
	local f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case $l in
		socket:\[*\])
			l=${l#socket:[}
			printf '%s' "${l%]}"
			return 0
			;;
		esac
	done
}

# daemon_holds INODE: whether the daemon has socket INODE open.
daemon_holds()
{
	local f
	for f in /proc/"$TS_DAEMON_PID"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = "socket:[$1]" ] && return 0
	done
	return 1
}

# stream_ready PID: wait (5 s at most) until the daemon has accepted the
# connection of tapswitchctl PID, then make one more request: the control
# server serves one connection at a time, so when that answers, PID's
# request has been served (its stream is on, or refused).  Fails if PID
# exits first.
stream_ready()
{
	local pid=$1 i ino peer
	for ((i = 0; i < 100; i++)); do
		pid_alive "$pid" ||
			fail "tapswitchctl (pid $pid) exited before its stream was on"
		ino=$(sock_inode "$pid")
		if [ -n "$ino" ]; then
			peer=$(ss -xn 2>/dev/null |
				awk -v i="$ino" '$6 == i { print $8; exit }')
			if [ -n "$peer" ] && daemon_holds "$peer"; then
				TS_STREAM_PEER[$pid]=$peer
				ctl show >/dev/null ||
					fail "tapswitch does not answer"
				return 0
			fi
		fi
		sleep 0.05
	done
	fail "tapswitchctl (pid $pid): the daemon did not take its connection in 5 s"
}

# stream_start FILE ARGS...: see above.  The client is tracked (bg_track).
stream_start()
{
	local out=$1
	shift
	"$TAPSWITCHCTL" --ctl "$TS_SOCK" "$@" >"$out" 2>"$out.err" &
	STREAM_PID=$!
	bg_track "$STREAM_PID"
	stream_ready "$STREAM_PID"
}

# stream_wait PID [SECONDS]: wait (default 5 s) for PID to exit; fail if it
# does not.  Prints nothing; returns PID's exit status.
stream_wait()
{
	local pid=$1 tries=$((${2:-5} * 20)) rc=0
	for (( ; tries > 0; tries--)); do
		pid_alive "$pid" || break
		sleep 0.05
	done
	pid_alive "$pid" && fail "tapswitchctl (pid $pid) still running after ${2:-5} s"
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

# stream_released PID [SECONDS]: wait (default 5 s) until the daemon no
# longer holds the other end of PID's connection (stream_ready noted it).
stream_released()
{
	local peer=${TS_STREAM_PEER[$1]:-} tries=$((${2:-5} * 20))
	[ -n "$peer" ] || fail "stream_released: no connection noted for $1"
	for (( ; tries > 0; tries--)); do
		daemon_holds "$peer" || return 0
		sleep 0.05
	done
	fail "tapswitch still holds the connection of tapswitchctl (pid $1) after ${2:-5} s"
}

# pcap_frames FILE: read FILE back with tshark; one line a frame:
# "LEN CAPLEN EPOCH HEX" (HEX: the captured bytes, lower case).
pcap_frames()
{
	command -v tshark >/dev/null 2>&1 || helper_fail "no tshark"
	[ -f "$1" ] || helper_fail "pcap_frames: no file $1"
	# (Read in a "$( )" whose "" can be the expected answer: its
	# failures must end the test, as those of the switch's readers do.)
	tshark -r "$1" -T json -x 2>/dev/null |
		jq -r '.[]._source.layers |
			[.frame["frame.len"], .frame["frame.cap_len"],
			 .frame["frame.time_epoch"], .frame_raw[0]] | join(" ")' ||
		helper_fail "tshark cannot read $1"
}

# xfer_as IN HEX [J=HEX_J]...: as xfer, but interface J receives HEX_J
# (a frame tagged or untagged on the way); the J must be in index order.
xfer_as()
{
	local in=$1 hex=$2 arg expect='' got
	shift 2
	ts_count xfer_as
	for arg in "$@"; do
		expect+="rx ${arg%%=*} ${arg#*=}"$'\n'
	done
	expect+=.
	got=$(printf 'send %s %s\n' "$in" "$hex" | pkt_run)
	if [ "$got" != "$expect" ]; then
		printf 'FAIL: frame %s sent on %s (%s)\n' "$hex" "$in" \
			"${PKT_IFS[$in]}" >&2
		printf '  expected:\n%s\n' "$expect" | sed 's/^/    /' >&2
		printf '  pktio printed:\n%s\n' "$got" | sed 's/^/    /' >&2
		exit 1
	fi
}

# link_stat NS IFNAME rx|tx KEY: a kernel counter of IFNAME in NS (ip -s),
# e.g. link_stat h0 tap0 tx dropped: frames the host could not hand to
# the tap (its queue full), which the switch never saw.
link_stat()
{
	local j v
	j=$(ip -n "$1" -j -s link show dev "$2") ||
		helper_fail "ip -n $1 -s link show dev $2 failed"
	v=$(printf '%s' "$j" | ts_jq "link_stat $*" -r --arg d "$3" \
		--arg k "$4" '.[0].stats64[$d][$k]') || exit 1
	[[ $v =~ ^[0-9]+$ ]] || helper_fail "link_stat $*: \"$v\" is no counter"
	printf '%s\n' "$v"
}
