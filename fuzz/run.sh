#!/bin/bash
#
# run.sh - run libFuzzer targets for a bounded time each, and sum up.
#
#   FUZZ_BUILD=build-fuzz fuzz/run.sh -t SECONDS [-w WORKDIR] TARGET...
#
# TARGET is a name (pipeline, offload, ctl, wire): the binary is
# $FUZZ_BUILD/fuzz/fuzz_TARGET, its seeds fuzz/corpus/TARGET/, its
# dictionary fuzz/dict/TARGET.dict when there is one.  The seeds are
# copied into WORKDIR/TARGET (a temporary directory, removed at the end,
# without -w), and the fuzzer runs there: what it finds never lands in
# the tree.  A crash, a leak, a timeout (an input slower than 10 s) or a
# failed invariant (the harness aborts) leaves its input in
# WORKDIR/artifacts/ and fails the run (a temporary WORKDIR is kept then).
#
# One line per target: "ok fuzz_ctl: runs N, exec/s N, cov N, ft N,
# corpus N" or "CRASH fuzz_ctl: ..." with the tail of its log; exit 0
# when nothing crashed, 1 otherwise, 2 when a binary is missing.

set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 2
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
secs=60
work=

while getopts t:w: opt; do
	case $opt in
	t) secs=$OPTARG ;;
	w) work=$OPTARG ;;
	*)
		echo "usage: fuzz/run.sh -t SECONDS [-w WORKDIR] TARGET..." >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
if [ $# = 0 ]; then
	echo "usage: fuzz/run.sh -t SECONDS [-w WORKDIR] TARGET..." >&2
	exit 2
fi

for t in "$@"; do
	if [ ! -x "$FUZZ_BUILD/fuzz/fuzz_$t" ]; then
		echo "fuzz/run.sh: no $FUZZ_BUILD/fuzz/fuzz_$t (make fuzz-bins builds it)" >&2
		exit 2
	fi
done

tmp=
if [ -z "$work" ]; then
	tmp=$(mktemp -d /tmp/tapswitch-fuzz.XXXXXX) || exit 2
	work=$tmp
fi
child=
cleanup()
{
	[ -n "$child" ] && kill "$child" 2>/dev/null
	# What crashed is kept, to be read and minimised.
	if [ -n "$tmp" ] && [ "${n_crash:-0}" = 0 ]; then
		rm -rf "$tmp"
	elif [ -n "$tmp" ]; then
		echo "fuzz/run.sh: logs and crashing inputs kept in $tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/artifacts" || exit 2

# Leaks are crashes too; a UBSan report stops the run (the objects are
# built with -fno-sanitize-recover as well).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

n_crash=0
for t in "$@"; do
	bin=$FUZZ_BUILD/fuzz/fuzz_$t
	corpus=$work/$t
	log=$work/$t.log
	dict=()

	mkdir -p "$corpus" || exit 2
	if [ -d "fuzz/corpus/$t" ]; then
		cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
	fi
	[ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
	# -error_exitcode: libFuzzer's default, 77, is "skip" to the test
	# runner.  -close_fd_mask=2: the daemon's log lines (fuzz_ctl) stay
	# out of the log; libFuzzer, the sanitizers and a failed invariant
	# still report there (fuzz/fuzz_common.h).
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
		-close_fd_mask=2 \
		-artifact_prefix="$work/artifacts/$t-" "${dict[@]}" \
		"$corpus" >"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=

	# The last status line: "#N DONE cov: C ft: F corp: K/S ... exec/s: E".
	last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' \
		"$log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	if [ "$rc" = 0 ]; then
		echo "ok fuzz_$t: ${secs} s, runs ${runs:-?}, exec/s ${eps:-?}, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}"
	else
		n_crash=$((n_crash + 1))
		echo "CRASH fuzz_$t: exit status $rc after runs ${runs:-?}, cov ${cov:-?}"
		grep -E 'FUZZ INVARIANT|ERROR: |SUMMARY: |runtime error|Test unit written|Deadly signal' \
			"$log" | head -n 20 | sed 's/^/    /'
		for a in "$work"/artifacts/"$t"-*; do
			[ -f "$a" ] || continue
			echo "    input $a ($(stat -c %s "$a") bytes; first 512 in hex):"
			od -An -tx1 -N512 "$a" | sed 's/^/    /'
		done
		echo "    log: $log (last lines follow)"
		tail -n 40 "$log" | sed 's/^/    /'
	fi
done

echo "fuzz: $# targets, $n_crash crashed"
[ $n_crash = 0 ]
