#!/bin/bash
#
# test_docs.sh - what is generated from the command grammar (tools/gen_docs,
# mk/docs.mk) says what the programs do: every command of
# `gen_docs list` is in both man pages, every long option of
# `tapswitch --help` is in tapswitch(8), the bash completion parses and
# completes objects, commands, keywords and values, and `make install`
# puts the man pages and the completion where man and bash-completion
# look for them.
#
# No daemon, no namespace, no root: it reads what `make binaries` built in
# $BUILD, and never skips.  Independent checks report and go on.
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

GEN_DOCS=$BUILD/tools/gen_docs
MAN_CTL=$BUILD/man/tapswitchctl.8
MAN_SW=$BUILD/man/tapswitch.8
COMPLETION=$BUILD/bash-completion/tapswitchctl

for f in "$GEN_DOCS" "$TAPSWITCH" "$TAPSWITCHCTL"; do
	[ -x "$f" ] || fail "$f not built (make binaries)"
done
for f in "$MAN_CTL" "$MAN_SW" "$COMPLETION"; do
	[ -s "$f" ] || fail "$f not generated (make binaries)"
done

TMP=$(mktemp -d /tmp/tapswitch-docs.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# check WHAT EXPECTED GOT: check_eq, with the failures counted, so that a
# group of checks says "ok" only when none of them failed (passed MESSAGE).
n_bad=0
n_bad_seen=0
check()
{
	[ "$2" = "$3" ] && return 0
	check_eq "$@"
	n_bad=$((n_bad + 1))
}
passed()
{
	[ "$n_bad" = "$n_bad_seen" ] && ok "$1"
	n_bad_seen=$n_bad
	return 0
}

# render PAGE: the page as text, one space between words.  man(1) when it
# is there; else the troff source with its escapes and requests stripped.
render()
{
	if command -v man >/dev/null 2>&1 &&
		MANWIDTH=200 man -l "$1" >"$TMP/page" 2>/dev/null &&
		[ -s "$TMP/page" ]; then
		# No bold by overstriking, no hyphens for minus signs.
		sed -e 's/.\x08//g' -e 's/\xe2\x80\x90/-/g' "$TMP/page"
	else
		sed -e 's/^\.[A-Za-z]* *//' -e 's/\\f[BIRP]//g' \
			-e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\ / /g' \
			-e 's/\\(dq/"/g' "$1"
	fi | tr -s ' \t' '  ' | sed 's/^ //'
}

render "$MAN_CTL" >"$TMP/tapswitchctl.txt"
render "$MAN_SW" >"$TMP/tapswitch.txt"

# --- every command in both pages --------------------------------------------
"$GEN_DOCS" list >"$TMP/list" || fail "gen_docs list failed"
n=$(wc -l <"$TMP/list")
[ "$n" -ge 21 ] || check "gen_docs list: a line per command" ">= 21" "$n"
while IFS= read -r cmd; do
	for page in tapswitchctl tapswitch; do
		# The synopsis starts a line: "fdb add MAC dev IFNAME ...".
		grep -Eq "^$cmd( |\$)" "$TMP/$page.txt" ||
			check "$page.8: the command \"$cmd\"" \
				"a line starting \"$cmd\"" "none"
	done
done <"$TMP/list"
passed "all $n commands of gen_docs list are in tapswitchctl.8 and tapswitch.8"

# --- the daemon's options ----------------------------------------------------
opts=$("$TAPSWITCH" --help | grep -Eo -- '--[a-z][a-z-]*' | sort -u)
[ -n "$opts" ] || fail "tapswitch --help shows no long option"
for opt in $opts; do
	grep -Fq -- "$opt" "$TMP/tapswitch.txt" ||
		check "tapswitch.8: the option $opt" "$opt" "absent"
done
passed "every long option of tapswitch --help is in tapswitch.8"
for opt in --ctl --json --stats --version --help; do
	grep -Fq -- "$opt" "$TMP/tapswitchctl.txt" ||
		check "tapswitchctl.8: the option $opt" "$opt" "absent"
done
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" \
	EXAMPLES "SEE ALSO"; do
	grep -q "^$section\$" "$TMP/tapswitchctl.txt" ||
		check "tapswitchctl.8: section $section" "$section" "absent"
done
for section in NAME SYNOPSIS DESCRIPTION OPTIONS SIGNALS FILES \
	"CONTROL COMMANDS" "SEE ALSO"; do
	grep -q "^$section\$" "$TMP/tapswitch.txt" ||
		check "tapswitch.8: section $section" "$section" "absent"
done
passed "man page sections and tapswitchctl's options"

# --- bash completion ----------------------------------------------------------
rc=0
bash -n "$COMPLETION" 2>"$TMP/err" || rc=$?
check "bash -n $COMPLETION" "0 " "$rc $(cat "$TMP/err")"

# complete WORD...: what the completion offers for the command line WORD...
# (the last word being completed), one line, sorted.
complete_line()
{
	bash -c '
		. "$0" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMPREPLY=()
		_tapswitchctl || exit 1
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"
	' "$COMPLETION" "$@"
}

check_completion()
{
	local want=$1 got
	shift
	got=$(complete_line "$@") || got="(failed)"
	check "completion of \"$*\"" "$want" "$got"
}

# No daemon behind this socket: port names complete to nothing.
NOSOCK=$TMP/none.sock
check_completion "add" "$TAPSWITCHCTL" fdb a
check_completion "learning" "$TAPSWITCHCTL" port set tap0 lea
check_completion "802.1Q 802.1ad" "$TAPSWITCHCTL" set vlan_protocol ""
check_completion "show start stop" "$TAPSWITCHCTL" capture s
check_completion "rx" "$TAPSWITCHCTL" dump dev tap0 dir r
check_completion "off on" "$TAPSWITCHCTL" link set tap0 flood ""
check_completion "replace" "$TAPSWITCHCTL" -j f r
check_completion "static sticky" "$TAPSWITCHCTL" fdb add \
	02:00:00:00:00:01 dev tap0 st
check_completion "vid" "$TAPSWITCHCTL" --ctl "$NOSOCK" vlan add dev tap0 vi
check_completion "dev" "$TAPSWITCHCTL" --ctl "$NOSOCK" port del ""
check_completion "monitor" "$TAPSWITCHCTL" mo
check_completion "--json" "$TAPSWITCHCTL" --j
: >"$TMP/x.pcap"
check_completion "$TMP/x.pcap" "$TAPSWITCHCTL" capture start file "$TMP/x."

# Port names come from `tapswitchctl -j port show`, the --ctl given on the
# line passed on: a stand-in that answers as the daemon would.
cat >"$TMP/fakectl" <<EOF
#!/bin/sh
echo "\$*" >"$TMP/fakectl.args"
echo '[{"ifname":"tap0","kind":"tap","stats":{"rx_packets":1}},{"ifname":"tbx","kind":"tap"}]'
EOF
chmod +x "$TMP/fakectl"
check_completion "dev tap0 tbx" "$TMP/fakectl" --ctl /run/x.sock port set ""
check "completion: the port list asked of" "--ctl /run/x.sock -j port show" \
	"$(cat "$TMP/fakectl.args" 2>/dev/null)"
check_completion "tap0" "$TMP/fakectl" fdb show dev ta
passed "bash completion: bash -n, objects, commands, keywords, values, ports"

# --- make install ---------------------------------------------------------
# -o all: install what `make binaries` built, as it is, without rebuilding
# (a sanitizer build directory must not get plain objects) or looking for
# packages.
DEST=$TMP/dest
rc=0
make -C "$TS_TOP" --no-print-directory -o all install DESTDIR="$DEST" \
	PREFIX=/usr BUILD="$BUILD" >"$TMP/install.log" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
	check "make install DESTDIR=$DEST: exit status" 0 "$rc"
	sed 's/^/    /' "$TMP/install.log" >&2
fi
for f in usr/sbin/tapswitch usr/bin/tapswitchctl \
	usr/share/man/man8/tapswitch.8 usr/share/man/man8/tapswitchctl.8 \
	usr/share/bash-completion/completions/tapswitchctl; do
	[ -s "$DEST/$f" ] || check "make install: $f" "installed" "absent"
done
cmp -s "$DEST/usr/share/man/man8/tapswitchctl.8" "$MAN_CTL" ||
	check "installed tapswitchctl.8" "the generated page" "another file"
cmp -s "$DEST/usr/share/bash-completion/completions/tapswitchctl" \
	"$COMPLETION" ||
	check "installed completion" "the generated script" "another file"
passed "make install DESTDIR: binaries, man pages, bash completion"

ts_done
