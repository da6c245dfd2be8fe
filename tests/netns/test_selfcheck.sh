#!/bin/bash
#
# test_selfcheck.sh - the tests can fail.  The helpers that read the
# switch run inside "$( )", where a tapswitchctl that failed used to leave
# an empty answer behind, which every assert_eq WHAT "" "$(fdb_port ...)"
# accepted.  Here two real suites run through tests/run.sh with a broken
# tapswitchctl (TS_TAPSWITCHCTL) and must go red, with a FAIL line that
# names the command; with the real client they pass.  Then the runner's
# own guards, in a scratch copy of tests/run.sh and lib.sh: a script that
# asserts nothing, a Check binary that checks nothing or prints no
# summary, and a run that selects no test fail; a skip stays a skip.
#
# The broken clients run the real one and pass its answer on, but when a
# `-j ... show` answers "[]" they
#
#   fail     exit 1 and print nothing
#   silent   exit 0 and print nothing
#   cut      exit 0 and print "[" (an answer cut short: no JSON)
#
# An empty table is the one answer that an expected "" cannot tell from a
# failure: with lib.sh as it was before this test, both suites passed with
# each of these clients (settle_fdb's "fdb after flush", test_learning's
# own).  Every other answer is the real one, so that nothing else can
# make them fail.  About 25 s; the suites clean up after themselves (and
# are stopped by tests/run.sh's time limit, by process group, if they
# hang); this test starts no process of its own in the background.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init --no-daemon
trap cleanup EXIT
[ -x "$TAPSWITCHCTL" ] || fail "$TAPSWITCHCTL not built (make binaries)"
[ -x "$TAPSWITCH" ] || fail "$TAPSWITCH not built (make binaries)"

RUN=$TS_TOP/tests/run.sh
# Quick ones (about 8 s each), both reading the table when it is empty.
SUITES=(test_learning test_linklocal)

# suites CLIENT: tests/run.sh netns SUITES with CLIENT as tapswitchctl;
# its output in $TS_TMP/run.out, its exit status in RC.
suites()
{
	RC=0
	TS_TAPSWITCHCTL=$1 BUILD=$BUILD "$RUN" netns "${SUITES[@]}" \
		>"$TS_TMP/run.out" 2>&1 || RC=$?
}

# result NAME: the line tests/run.sh gave NAME ("PASS NAME", ...).
result() { grep -E "^(PASS|FAIL|SKIP) $1\$" "$TS_TMP/run.out" || true; }

# block NAME: the indented lines after "FAIL NAME" (its output).
block()
{
	awk -v n="FAIL $1" '$0 == n { on = 1; next } /^[^ ]/ { on = 0 } on' \
		"$TS_TMP/run.out"
}

# show_run: the inner run's output, after a mismatch.
show_run() { sed 's/^/    | /' "$TS_TMP/run.out" >&2; }

# says NAME TEXT: the output of the failed NAME holds TEXT (reported).
says()
{
	block "$1" | grep -qF -- "$2" ||
		check_eq "$1: why it failed" "$2" \
			"$(block "$1" | grep -m1 -E 'FAIL:|exit status' || true)"
}

# --------------------------------------------------- the real client
suites "$TAPSWITCHCTL"
if [ "$RC" != 0 ]; then
	show_run
	fail "tests/run.sh netns ${SUITES[*]} with the real client: exit status $RC"
fi
for s in "${SUITES[@]}"; do
	assert_eq "$s with the real client" "PASS $s" "$(result "$s")"
done
ok "${SUITES[*]} pass with the real tapswitchctl"

# ------------------------------------------------- broken clients
cat >"$TS_TMP/broken" <<'EOF2'
#!/bin/bash
# broken MODE REAL ARGS...: tapswitchctl REAL, broken on purpose where a
# -j show command answers [] (see test_selfcheck.sh).
mode=$1 real=$2
shift 2
json= show=
for a in "$@"; do
	case $a in
	-j | --json) json=1 ;;
	show) show=1 ;;
	esac
done
[ -n "$json" ] && [ -n "$show" ] || exec "$real" "$@"
out=$("$real" "$@") || exit
if [ "$(printf '%s' "$out" | jq -c . 2>/dev/null)" != "[]" ]; then
	printf '%s\n' "$out"
	exit 0
fi
case $mode in
fail) exit 1 ;;
silent) exit 0 ;;
cut) echo "[" ;;
esac
exit 0
EOF2
chmod +x "$TS_TMP/broken"

# The FAIL line each one must cause (lib.sh's ctlj).
declare -A WANT=(
	[fail]="FAIL: tapswitchctl -j fdb show: exit status 1"
	[silent]="FAIL: tapswitchctl -j fdb show printed nothing (JSON expected)"
	[cut]="FAIL: tapswitchctl -j fdb show printed no valid JSON"
)
for mode in fail silent cut; do
	client=$TS_TMP/tapswitchctl-$mode
	printf '#!/bin/bash\nexec %q %q %q "$@"\n' "$TS_TMP/broken" "$mode" \
		"$TAPSWITCHCTL" >"$client"
	chmod +x "$client"
	suites "$client"
	bad=$TS_FAILED
	check_eq "tests/run.sh with the $mode client: exit status" 1 "$RC"
	for s in "${SUITES[@]}"; do
		check_eq "$s with the $mode client" "FAIL $s" "$(result "$s")"
		says "$s" "${WANT[$mode]}"
	done
	if [ "$TS_FAILED" = "$bad" ]; then
		ok "the $mode client: ${SUITES[*]} fail, naming tapswitchctl -j fdb show"
	else
		show_run
	fi
done

# ---------------------------------------- the runner's own guards
# A scratch tree: tests/run.sh and lib.sh as they are, with scripts and
# stand-ins for Check binaries that exit 0 having tested nothing.
T=$TS_TMP/tree
mkdir -p "$T/tests/netns" "$T/build/tests"
cp "$RUN" "$T/tests/run.sh"
cp "$TS_TOP/tests/netns/lib.sh" "$T/tests/netns/lib.sh"
for t in 'none:log "nothing asserted"' 'one:ok "one assertion"' \
	'skip:skip "on purpose"'; do
	# shellcheck disable=SC2016 # the line as the script must hold it
	printf '. "$(dirname "$0")/lib.sh"\n%s\n' "${t#*:}" \
		>"$T/tests/netns/test_${t%%:*}.sh"
done
cat >"$T/build/tests/check_one" <<'EOF2'
#!/bin/sh
echo "Running suite(s): one"
echo "100%: Checks: 1, Failures: 0, Errors: 0"
EOF2
cat >"$T/build/tests/check_zero" <<'EOF2'
#!/bin/sh
echo "Running suite(s):100%: Checks: 0, Failures: 0, Errors: 0"
EOF2
printf '#!/bin/sh\nexit 0\n' >"$T/build/tests/check_quiet"
chmod +x "$T/build/tests/"check_*

rc=0
BUILD=$T/build "$T/tests/run.sh" >"$TS_TMP/run.out" 2>&1 || rc=$?
bad=$TS_FAILED
check_eq "the scratch tree's run: exit status" 1 "$rc"
check_eq "the scratch tree's run: results" "PASS check_one
FAIL check_quiet
FAIL check_zero
FAIL test_none
PASS test_one
SKIP test_skip
2 passed, 3 failed, 1 skipped" \
	"$(grep -E '^(PASS|FAIL|SKIP) | passed, ' "$TS_TMP/run.out" || true)"
says check_quiet "exit status 0, but it printed no Check summary"
says check_zero "exit status 0, but it ran no check (Checks: 0)"
says test_none "exit status 0, but it ran no assertion"
[ "$TS_FAILED" = "$bad" ] || show_run

rc=0
BUILD=$T/build "$T/tests/run.sh" netns nosuchtest >"$TS_TMP/run.out" 2>&1 ||
	rc=$?
check_eq "a run that selects no test: exit status" 1 "$rc"
check_eq "a run that selects no test: its lines" "FAIL netns
    no test ran: none matched nosuchtest
0 passed, 1 failed, 0 skipped" "$(cat "$TS_TMP/run.out")"
ok "tests/run.sh fails a test that tested nothing, and a run of no test"
ts_done
