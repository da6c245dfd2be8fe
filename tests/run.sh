#!/bin/bash
#
# run.sh - run the tapswitch test suites.
#
#   BUILD=build tests/run.sh [unit|netns] [NAME...]
#
#   unit    every $BUILD/tests/check_* binary (Check unit tests)
#   netns   every tests/netns/test_*.sh (black-box tests; need root)
#   (none)  both
#   NAME    only the tests whose name contains one of the NAMEs
#
# Each test runs under a time limit (120 s, or what a script's line
# "# ts-timeout: SECONDS" says for a script that runs several suites;
# TS_TEST_TIMEOUT overrides both)
# and gets one line: "PASS name", "FAIL name" or "SKIP name"; indented
# lines after a FAIL give the exit status (or why it failed) and the
# test's output, after a SKIP the reason.  A script that exits 77 is
# skipped; any other non-zero exit, and any non-zero exit of a Check
# binary, is a failure.  A test must also have tested something: a script
# that exits 0 without a single assertion of tests/netns/lib.sh (assert_*,
# check_*, ok, xfer: each appends to TS_ASSERT_LOG, which this sets), and
# a Check binary whose summary says "Checks: 0" or that prints none, fail.
# A run that selects no test at all fails too.  The last line is
# "N passed, N failed, N skipped"; the exit status is 1 if anything
# failed.  The environment (ASAN_OPTIONS, CK_FORK, ...) is passed through
# to the tests untouched, but for CK_VERBOSITY=silent, which would hide
# the summary: the Check binaries then run with minimal.

set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 2
BUILD=${BUILD:-build}
export BUILD
TIMEOUT=${TS_TEST_TIMEOUT:-120}

mode=${1:-all}
[ $# -gt 0 ] && shift
case $mode in
unit | netns | all) ;;
*)
	echo "usage: tests/run.sh [unit|netns] [NAME...]" >&2
	exit 2
	;;
esac
filters=("$@")

n_pass=0
n_fail=0
n_skip=0
out=$(mktemp /tmp/tapswitch-run.XXXXXX) || exit 2
asserts=$(mktemp /tmp/tapswitch-run.asserts.XXXXXX) || exit 2
test_pid=
trap 'rm -f "$out" "$asserts"' EXIT
# Interrupted: let the running test clean up (timeout(1) passes SIGTERM on
# to its process group), then stop.
trap 'interrupted' INT TERM
interrupted()
{
	if [ -n "$test_pid" ]; then
		kill -s TERM "$test_pid" 2>/dev/null
		wait "$test_pid"
	fi
	echo "interrupted"
	exit 130
}

selected()
{
	local f
	[ ${#filters[@]} -eq 0 ] && return 0
	for f in "${filters[@]}"; do
		case $1 in *"$f"*) return 0 ;; esac
	done
	return 1
}

# untested KIND: why a test that exited 0 tested nothing, or nothing.
# A script: no assertion in $asserts.  A Check binary: its summary lines
# ("100%: Checks: 32, Failures: 0, Errors: 0", maybe glued to "Running
# suite(s):" when no test ran) add up to 0 checks, or there is none.
untested()
{
	local n
	case $1 in
	script)
		[ -s "$asserts" ] ||
			echo "ran no assertion (assert_*, check_*, ok, xfer of tests/netns/lib.sh)"
		;;
	binary)
		n=$(grep -oE '[0-9]+%: Checks: [0-9]+' "$out" |
			awk '{ n += $NF; k++ } END { print k ? n : "none" }')
		case $n in
		none) echo "printed no Check summary (\"N%: Checks: N, ...\")" ;;
		0) echo "ran no check (Checks: 0)" ;;
		esac
		;;
	esac
}

# report NAME RC KIND: one result line; the output of a failure follows.
report()
{
	local name=$1 rc=$2 kind=$3 reason why=
	[ "$rc" != 0 ] || why=$(untested "$kind")
	if [ "$rc" = 0 ] && [ -z "$why" ]; then
		echo "PASS $name"
		n_pass=$((n_pass + 1))
	elif [ "$rc" = 77 ] && [ "$kind" = script ]; then
		reason=$(grep -m1 '^SKIP:' "$out" | sed 's/^SKIP: *//')
		echo "SKIP $name"
		echo "    ${reason:-no reason given}"
		n_skip=$((n_skip + 1))
	else
		echo "FAIL $name"
		case $rc in
		0) echo "    exit status 0, but it $why; its output:" ;;
		124 | 137) echo "    timed out; its output:" ;;
		*) echo "    exit status $rc; its output:" ;;
		esac
		sed 's/^/    /' "$out"
		n_fail=$((n_fail + 1))
	fi
}

# run_one NAME KIND CMD...: run under the time limit, output to $out,
# assertions counted in $asserts (emptied first).  timeout(1) signals the
# test's whole process group (a daemon it started included) with SIGTERM,
# and SIGKILLs it 15 s later if still there.
run_one()
{
	local name=$1 kind=$2 rc vars limit=$TIMEOUT
	shift 2
	if [ "$kind" = script ] && [ -z "${TS_TEST_TIMEOUT:-}" ]; then
		limit=$(sed -n 's/^# ts-timeout: \([0-9][0-9]*\)$/\1/p' "$2" |
			head -n1)
		limit=${limit:-$TIMEOUT}
	fi
	: >"$asserts"
	vars=(TS_ASSERT_LOG="$asserts")
	if [ "$kind" = binary ] && [ "${CK_VERBOSITY:-}" = silent ]; then
		vars+=(CK_VERBOSITY=minimal)
	fi
	env "${vars[@]}" timeout -k 15 "$limit" "$@" </dev/null >"$out" 2>&1 &
	test_pid=$!
	wait "$test_pid"
	rc=$?
	test_pid=
	report "$name" "$rc" "$kind"
}

if [ "$mode" != netns ]; then
	found=0
	for bin in "$BUILD"/tests/check_*; do
		if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then continue; fi
		case $bin in *.o | *.d) continue ;; esac
		found=1
		name=${bin##*/}
		selected "$name" || continue
		run_one "$name" binary "$bin"
	done
	if [ $found = 0 ]; then
		echo "FAIL unit"
		echo "    no $BUILD/tests/check_* binaries (make unit-test builds them)"
		n_fail=$((n_fail + 1))
	fi
fi

if [ "$mode" != unit ]; then
	for script in tests/netns/test_*.sh; do
		[ -f "$script" ] || continue
		name=${script##*/}
		name=${name%.sh}
		selected "$name" || continue
		run_one "$name" script bash "$script"
	done
fi

# Nothing run (a NAME that matches no test, an empty tests/netns): that
# passes nothing, so it must not look like a pass.
if [ $((n_pass + n_fail + n_skip)) = 0 ]; then
	echo "FAIL $mode"
	echo "    no test ran: none matched${filters[*]:+ ${filters[*]}}"
	n_fail=$((n_fail + 1))
fi

echo "$n_pass passed, $n_fail failed, $n_skip skipped"
[ $n_fail = 0 ]
