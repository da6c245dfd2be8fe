#!/bin/bash
#
# test_fuzz.sh - the libFuzzer targets (fuzz/fuzz_*.c) stay alive: each
# runs for FUZZ_SMOKE_S seconds (20) from a copy of its seed corpus, under
# ASan and UBSan, and the test fails on a crash, a leak, a timeout or a
# failed invariant (the harness aborts), printing the input that did it.
# Nothing here needs root or a network namespace: the harnesses drive the
# switch through memory ports and ctl_run(), never a device or a socket.
#
#     fuzz/corpus/TARGET --copied--> $TMP/TARGET --> build-fuzz/fuzz/fuzz_TARGET
#                                                     (4 targets x 20 s)
#
# The binaries are built by `make test` (mk/fuzz.mk hooks fuzz-bins into
# it) or `make fuzz-bins`, into $FUZZ_BUILD (build-fuzz); without them the
# test is skipped, not passed.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
case $FUZZ_BUILD in
/*) ;;
*) FUZZ_BUILD=$TS_TOP/$FUZZ_BUILD ;;
esac
secs=${FUZZ_SMOKE_S:-20}
targets=(pipeline offload ctl wire)

for t in "${targets[@]}"; do
	[ -x "$FUZZ_BUILD/fuzz/fuzz_$t" ] ||
		skip "$FUZZ_BUILD/fuzz/fuzz_$t not built (make fuzz-bins)"
	[ -d "$TS_TOP/fuzz/corpus/$t" ] || fail "no seeds in fuzz/corpus/$t"
done

# fuzz/run.sh copies the seeds into a temporary directory it removes: the
# tree's corpus is never written.
rc=0
FUZZ_BUILD=$FUZZ_BUILD "$TS_TOP/fuzz/run.sh" -t "$secs" "${targets[@]}" ||
	rc=$?
case $rc in
0) ok "${#targets[@]} fuzz targets, $secs s each, no crash" ;;
*) fail "a fuzz target crashed (fuzz/run.sh exit status $rc; see above)" ;;
esac
