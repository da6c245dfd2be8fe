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
# Each test runs under a time limit (120 s; TS_TEST_TIMEOUT overrides)
# and gets one line: "PASS name", "FAIL name" or "SKIP name"; indented
# lines after a FAIL give the exit status and the test's output, after a
# SKIP the reason.  A script that exits 77 is skipped; any other non-zero
# exit, and any non-zero exit of a Check binary, is a failure.  The
# last line is "N passed, N failed, N skipped"; the exit status is 1 if
# anything failed.  The environment (ASAN_OPTIONS, CK_FORK, ...) is passed
# through to the tests untouched.

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
test_pid=
trap 'rm -f "$out"' EXIT
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

# report NAME RC KIND: one result line; the output of a failure follows.
report()
{
	local name=$1 rc=$2 kind=$3 reason
	if [ "$rc" = 0 ]; then
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
		124 | 137) echo "    timed out after ${TIMEOUT} s; its output:" ;;
		*) echo "    exit status $rc; its output:" ;;
		esac
		sed 's/^/    /' "$out"
		n_fail=$((n_fail + 1))
	fi
}

# run_one NAME KIND CMD...: run under the time limit, output to $out.
# timeout(1) signals the test's whole process group (a daemon it started
# included) with SIGTERM, and SIGKILLs it 15 s later if still there.
run_one()
{
	local name=$1 kind=$2 rc
	shift 2
	timeout -k 15 "$TIMEOUT" "$@" </dev/null >"$out" 2>&1 &
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

echo "$n_pass passed, $n_fail failed, $n_skip skipped"
[ $n_fail = 0 ]
