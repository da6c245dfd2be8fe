#!/bin/bash
#
# test_walkthrough.sh - docs/walkthrough.md is exactly what
# docs/walkthrough.sh prints now, so that the teaching walkthrough (the
# seed's ARP walks, figures 4-8, with the real trace output of every
# frame) cannot drift from the code.
#
# The generator builds its lab, sends the frames and checks them itself
# (explain against trace, trace against what pktio saw delivered); it
# exits 77 where it cannot run (no root, no /dev/net/tun), and so does
# this test.  Its page goes to a temporary file, compared byte for byte
# with the committed one; a difference fails with the diff.  To accept a
# change (as root):  docs/walkthrough.sh -o docs/walkthrough.md
#
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"	# (for ok: tests/run.sh counts it)

TOP=$(cd "$(dirname "$0")/../.." && pwd)
PAGE=$(mktemp /tmp/tapswitch-walkthrough.XXXXXX) || exit 1
trap 'rm -f "$PAGE"' EXIT
# A signal (the runner's timeout) reaches the generator too, which cleans
# up after itself; here, only the temporary file goes.
trap 'exit 143' TERM
trap 'exit 130' INT

bash "$TOP/docs/walkthrough.sh" >"$PAGE"
rc=$?
case $rc in
0) ;;
77) exit 77 ;;
*)
	echo "FAIL: docs/walkthrough.sh exited with status $rc" >&2
	exit 1
	;;
esac

if [ ! -f "$TOP/docs/walkthrough.md" ]; then
	echo "FAIL: docs/walkthrough.md is missing; make it (as root) with" >&2
	echo "  docs/walkthrough.sh -o docs/walkthrough.md" >&2
	exit 1
fi
if ! diff -u --label docs/walkthrough.md --label "docs/walkthrough.sh (now)" \
	"$TOP/docs/walkthrough.md" "$PAGE" >&2; then
	echo "FAIL: docs/walkthrough.md differs from what docs/walkthrough.sh prints now (diff above);" >&2
	echo "  if the change is meant, regenerate it (as root): docs/walkthrough.sh -o docs/walkthrough.md" >&2
	exit 1
fi
ok "docs/walkthrough.md is what docs/walkthrough.sh prints"
