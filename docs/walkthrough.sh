#!/bin/bash
#
# walkthrough.sh - generate docs/walkthrough.md: the ARP walks of the seed
# document seeds/004_5584f62406c3fc4a.txt (figures 4-8) rebuilt on
# tapswitch, step by step, with the real `tapswitchctl trace` line of
# every frame and what every host received.
#
#   docs/walkthrough.sh                   the document on stdout
#   docs/walkthrough.sh -o FILE           ... into FILE (only on success)
#   docs/walkthrough.sh --check [FILE]    compare with FILE (default
#                                         docs/walkthrough.md): exit 0 if
#                                         equal, else print a diff, exit 1
#
# Regenerate after a change to the switch, the control tool or this
# script (as root):  docs/walkthrough.sh -o docs/walkthrough.md
# tests/netns/test_walkthrough.sh runs it and fails when the committed
# page differs, so that the page cannot drift from the code.
#
# BUILD (default build) names the build directory whose binaries run.
# Needs root and /dev/net/tun: otherwise a "SKIP: ..." line on stderr and
# exit 77.  Exit 1 on any failure, including a trace or explain line that
# disagrees with what pktio saw delivered (the page must not teach it).
#
# Reproducible to the byte:
#  - the switch runs in a namespace of its own, so its taps are created
#    there under the plain names of the seed's drawing (vetha, b100, b200,
#    tap0, eth0, br0) and the trace names them so; namespace names (which
#    carry a random prefix) and the control socket are normalised in the
#    commands shown;
#  - every MAC address and IPv4 address (198.18.0.0/15) is fixed; the only
#    kernel-made frames (figures 5b and 7) come from stacks whose devices
#    have fixed MACs, and are described without their varying bytes (ICMP
#    id, time stamp payload);
#  - trace time stamps are cut off, and `fdb show` ages too;
#  - one frame at a time: a step waits until its trace line(s) arrived and
#    pktio has collected what was delivered; the kernel stacks that answer
#    (figure 7) are silenced afterwards (their neighbour entries flushed).
#
# Like the tests, it uses tests/netns/lib.sh: namespaces named from a
# random TS_ID, IPv6 off in all of them, everything bounded in time, and
# removed on exit (also on failure or a signal); processes are stopped by
# PID only.  Nothing is created in the root namespace.

set -eu

WT_TOP=$(cd "$(dirname "$0")/.." && pwd)
WT_MODE=stdout
WT_FILE=
case ${1:-} in
'') ;;
-o)
	[ $# = 2 ] || { echo "usage: $0 [-o FILE | --check [FILE]]" >&2; exit 2; }
	WT_MODE='file'
	WT_FILE=$2
	;;
--check)
	[ $# -le 2 ] || { echo "usage: $0 [-o FILE | --check [FILE]]" >&2; exit 2; }
	WT_MODE=check
	WT_FILE=${2:-$WT_TOP/docs/walkthrough.md}
	;;
-h | --help)
	sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [-o FILE | --check [FILE]]" >&2
	exit 2
	;;
esac

# shellcheck source-path=SCRIPTDIR source=../tests/netns/lib.sh
. "$WT_TOP/tests/netns/lib.sh"
# Only the document goes to stdout: a SKIP line goes to stderr.
ts_init >&2

# lib.sh's ctl and ctlj, bounded in time.
ctl() { timeout 10 "$TAPSWITCHCTL" --ctl "$TS_SOCK" "$@"; }
ctlj()
{
	local out
	out=$(timeout 10 "$TAPSWITCHCTL" --ctl "$TS_SOCK" -j "$@") ||
		fail "tapswitchctl -j $* failed"
	printf '%s\n' "$out"
}

WT_PKT_PID=
WT_TRACE_PID=
# shellcheck disable=SC2317 # (the EXIT trap calls it)
wt_cleanup()
{
	local rc=$?
	set +e
	if [ -n "$WT_TRACE_PID" ]; then
		kill -s TERM "$WT_TRACE_PID" 2>/dev/null
		wait "$WT_TRACE_PID" 2>/dev/null
	fi
	if [ -n "$WT_PKT_PID" ]; then
		kill -s TERM "$WT_PKT_PID" 2>/dev/null
		wait "$WT_PKT_PID" 2>/dev/null
	fi
	(exit "$rc")
	cleanup
}
trap wt_cleanup EXIT

# ------------------------------------------------------------ the lab

NSW=$TS_ID-sw NX=$TS_ID-x NY=$TS_ID-y NT=$TS_ID-t NE=$TS_ID-e NB=$TS_ID-b
NAMES=(vetha b100 b200 tap0 eth0 br0)
PNS=("$NX" "$NY" "$NY" "$NT" "$NE" "$NB")
# Who is behind each port, for the tables of what was received.
WHO=("X  parent" "Y  vlan100 (A)" "Y  vlan200" "T  program" "E  outside"
	"B  bridge0")
P_VETHA=0 P_B100=1 P_TAP0=3 P_ETH0=4 P_BR0=5

MX=02:5e:ed:00:00:0a	# X: the parent and its children vlan100, vlan200
MY=02:5e:ed:00:00:0b	# Y: its children; host A is its vlan100 child
MT=02:5e:ed:00:00:7a	# the program on tap0
ME=02:5e:ed:00:00:e0	# a host of the external network
# shellcheck disable=SC2034 # MB: through PMAC
MB=02:5e:ed:00:00:b0	# bridge0 itself
BC=ff:ff:ff:ff:ff:ff
PMAC=(MX MY MY MT ME MB)	# each port's device, on its host's side
PROBE_SRC=03:5e:ed:00:00:ff	# a multicast source: dropped, never learned

# ------------------------------------------------------------ frames

# ip_hex A.B.C.D -> 8 hex digits
ip_hex()
{
	local IFS=.
	# shellcheck disable=SC2086 # split on the dots
	printf '%02x%02x%02x%02x' $1
}

# hex_ip 8 hex digits -> A.B.C.D
hex_ip()
{
	printf '%d.%d.%d.%d' $((16#${1:0:2})) $((16#${1:2:2})) \
		$((16#${1:4:2})) $((16#${1:6:2}))
}

# hex_mac 12 hex digits -> aa:bb:cc:dd:ee:ff
hex_mac()
{
	printf '%s:%s:%s:%s:%s:%s' "${1:0:2}" "${1:2:2}" "${1:4:2}" \
		"${1:6:2}" "${1:8:2}" "${1:10:2}"
}

# arp OP DST SRC SPA TPA [THA]: an ARP frame (42 bytes), OP 1 request,
# 2 reply; a request's target MAC is all-zero, as Linux sends it.
arp()
{
	printf '%s%s0806000108000604000%s%s%s%s%s' "$(mac_hex "$2")" \
		"$(mac_hex "$3")" "$1" "$(mac_hex "$3")" "$(ip_hex "$4")" \
		"$(mac_hex "${6:-00:00:00:00:00:00}")" "$(ip_hex "$5")"
}

# tg HEX VID: HEX with an 802.1Q tag (PCP 0) put after the MACs.
tg() { printf '%s8100%04x%s' "${1:0:24}" "$2" "${1:24}"; }

# tag_off HEX: the offset (in hex digits) of the ethertype after the
# tags; the tags are printed as " vlan VID[ pcp P]" into TAGS.
tag_off()
{
	local h=$1 off=24 tci
	TAGS=
	while [ $((off + 8)) -le ${#h} ] &&
		{ [ "${h:off:4}" = 8100 ] || [ "${h:off:4}" = 88a8 ]; }; do
		tci=$((16#${h:off+4:4}))
		TAGS+=" vlan $((tci & 4095))"
		[ $((tci >> 13)) = 0 ] || TAGS+=" pcp $((tci >> 13))"
		off=$((off + 8))
	done
	OFF=$off
}

# payload HEX: what the frame carries, in words (no MACs, no tags).
payload()
{
	local h=$1 p op ihl
	tag_off "$h"
	p=${h:OFF+4}
	case ${h:OFF:4} in
	0806)
		op=${p:12:4}
		case $op in
		0001) printf 'ARP who-has %s tell %s' "$(hex_ip "${p:48:8}")" \
			"$(hex_ip "${p:28:8}")" ;;
		0002) printf 'ARP reply %s is-at %s' "$(hex_ip "${p:28:8}")" \
			"$(hex_mac "${p:16:12}")" ;;
		*) printf 'ARP op %d' $((16#$op)) ;;
		esac
		;;
	0800)
		ihl=$(((16#${p:1:1}) * 8))
		case ${p:18:2}/${p:ihl:2} in
		01/08) printf 'ICMP echo request %s > %s' \
			"$(hex_ip "${p:24:8}")" "$(hex_ip "${p:32:8}")" ;;
		01/00) printf 'ICMP echo reply %s > %s' \
			"$(hex_ip "${p:24:8}")" "$(hex_ip "${p:32:8}")" ;;
		*) printf 'IPv4 %s > %s' "$(hex_ip "${p:24:8}")" \
			"$(hex_ip "${p:32:8}")" ;;
		esac
		;;
	88b5) printf 'type 0x88b5 (test payload, sequence %d)' \
		$((16#${p:4:8})) ;;
	*) printf 'type 0x%s' "${h:OFF:4}" ;;
	esac
}

# describe HEX: a frame in one line: length, tag, MACs (tcpdump's order,
# src > dst), what it carries.
describe()
{
	local h=$1 what
	what=$(payload "$h")
	tag_off "$h"
	printf '%d bytes, %s, %s > %s, %s' $((${#h} / 2)) \
		"$(if [ -n "$TAGS" ]; then printf '%s' "${TAGS# }"; else printf untagged; fi)" \
		"$(hex_mac "${h:12:12}")" "$(hex_mac "${h:0:12}")" "$what"
}

# fields HEX: the frame's bytes in hex, a space between header fields:
# dst, src, each tag (TPID TCI), type, and for ARP its fields.
fields()
{
	local h=$1 out p
	tag_off "$h"
	out="${h:0:12} ${h:12:12}"
	local o=24
	while [ $o -lt "$OFF" ]; do
		out+=" ${h:o:4} ${h:o+4:4}"
		o=$((o + 8))
	done
	out+=" ${h:OFF:4}"
	p=${h:OFF+4}
	if [ "${h:OFF:4}" = 0806 ] && [ ${#p} -ge 56 ]; then
		out+="  ${p:0:4} ${p:4:4} ${p:8:2} ${p:10:2} ${p:12:4}"
		out+=" ${p:16:12} ${p:28:8} ${p:36:12} ${p:48:8}"
		[ ${#p} = 56 ] || out+=" ${p:56}"
	elif [ -n "$p" ]; then
		out+="  $p"
	fi
	printf '%s' "$out"
}

# ------------------------------------------------------------ the page

DOC=$TS_TMP/walkthrough.md
: >"$DOC"

# say LINE...: lines of the page.  text: the page's prose from stdin.
# Blocks are separated by an empty line (doubles squeezed at the end).
say() { printf '%s\n' "$@" >>"$DOC"; }
text() { printf '\n' >>"$DOC"; cat >>"$DOC"; }
# page: the page as it is printed: no empty lines at the top, none doubled.
page() { cat -s "$DOC" | sed '/./,$!d'; }

# norm: names as the page shows them (no random prefix, $SOCK).
norm() { sed -e "s|$TS_SOCK|\$SOCK|g" -e "s/$TS_ID-//g"; }

# Commands shown in a sh block as they run: cmd CMD... runs CMD and shows
# it; ctl_show ARGS runs tapswitchctl and shows it as "ctl ARGS", with
# its output, if any, under it.
cmd()
{
	printf '%s\n' "$*" | norm >>"$DOC"
	"$@" >/dev/null || fail "$* failed"
}

ctl_show()
{
	local out
	printf 'ctl %s\n' "$*" | norm >>"$DOC"
	out=$(ctl "$@") || fail "tapswitchctl $* failed"
	[ -z "$out" ] || printf '%s\n' "$out" | norm >>"$DOC"
}

# ------------------------------------------------------------ pktio

# One pktio for the whole page, on every port's host side: frames that
# arrive between two collections wait in its sockets.
pkt_start()
{
	local specs=() i
	for i in "${!NAMES[@]}"; do
		specs+=("${PNS[i]}:${NAMES[i]}")
	done
	coproc PKT { exec timeout 100 "$PKTIO" -w "$PKT_SETTLE" "${specs[@]}" \
		2>>"$TS_TMP/pktio.err"; }
	WT_PKT_PID=$PKT_PID
	exec {WT_PKT_OUT}<&"${PKT[0]}" {WT_PKT_IN}>&"${PKT[1]}"
}

# pkt CMD: one pktio command; its "rx J HEX" lines into PKT_RX.
pkt()
{
	local line
	PKT_RX=()
	printf '%s\n' "$1" >&"$WT_PKT_IN" || fail "pktio is gone: $(cat "$TS_TMP/pktio.err")"
	while :; do
		IFS= read -r -t 20 line <&"$WT_PKT_OUT" ||
			fail "pktio does not answer \"$1\": $(cat "$TS_TMP/pktio.err")"
		[ "$line" = . ] && return 0
		PKT_RX+=("$line")
	done
}

# ------------------------------------------------------------ the trace

# One `tapswitchctl trace` for the whole page.  Its lines, time stamp
# cut off and the probes dropped; TRACE_SEEN of them are taken already.
TRACE_SEEN=0

trace_lines()
{
	local f=$TS_TMP/trace
	# A last line still being written is not taken.
	if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then
		sed '$d' "$f"
	else
		cat "$f"
	fi | grep -v -e "$PROBE_SRC" |
		sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} //' || true
}

# The trace is live once it shows a probe: a frame from a multicast
# source, dropped before learning (drop_src on br0).
trace_start()
{
	local probe i
	timeout 100 "$TAPSWITCHCTL" --ctl "$TS_SOCK" trace \
		>"$TS_TMP/trace" 2>"$TS_TMP/trace.err" &
	WT_TRACE_PID=$!
	probe=$(mac_hex $BC)$(mac_hex $PROBE_SRC)88b5$(printf '%092d' 0)
	for ((i = 0; i < 50; i++)); do
		pkt "send $P_BR0 $probe"
		grep -q -e "$PROBE_SRC" "$TS_TMP/trace" && return 0
	done
	fail "tapswitchctl trace shows nothing: $(cat "$TS_TMP/trace.err")"
}

# trace_wait N: wait (5 s at most) for N more trace lines; they, and any
# more that came, go into TR_NEW.
trace_wait()
{
	local want=$((TRACE_SEEN + $1)) i all
	for ((i = 0; i < 50; i++)); do
		mapfile -t all < <(trace_lines)
		[ "${#all[@]}" -ge "$want" ] && break
		sleep 0.1
	done
	[ "${#all[@]}" -ge "$want" ] ||
		fail "expected $1 more trace line(s), got $((${#all[@]} - TRACE_SEEN))"
	TR_NEW=("${all[@]:TRACE_SEEN}")
	TRACE_SEEN=${#all[@]}
}

# ------------------------------------------------------------ checks

WT_PROBLEMS=()
problem() { WT_PROBLEMS+=("$1"); }

# egress_of_trace / egress_of_rx: "port:tagged" words, sorted, from the
# TR_NEW trace lines / the PKT_RX frames, to compare the two.
egress_of_trace()
{
	local l
	for l in "${TR_NEW[@]}"; do
		# shellcheck disable=SC2086 # the egress words
		case $l in
		*" -> "*) printf '%s\n' ${l##* -> } ;;
		esac
	done | LC_ALL=C sort | paste -sd ' ' -
}

egress_of_rx()
{
	local l j h
	for l in "${PKT_RX[@]}"; do
		read -r _ j h <<<"$l"
		if [ "${h:24:4}" = 8100 ]; then
			printf '%s:tagged\n' "${NAMES[j]}"
		else
			printf '%s:untagged\n' "${NAMES[j]}"
		fi
	done | LC_ALL=C sort | paste -sd ' ' -
}

# delivered_matches WHAT: the trace's egress ports and tags are what
# pktio saw arrive; once more after a longer wait, in case a slow build
# wrote late.
delivered_matches()
{
	local t r more
	t=$(egress_of_trace)
	r=$(egress_of_rx)
	if [ "$t" != "$r" ]; then
		more=("${PKT_RX[@]}")
		pkt "wait 500"
		PKT_RX=("${more[@]}" "${PKT_RX[@]}")
		r=$(egress_of_rx)
	fi
	[ "$t" = "$r" ] ||
		problem "$1: trace says egress [$t], pktio saw [$r]"
}

# ------------------------------------------------------------ the steps

STEP=

# step NUMBER TITLE: a step's heading.
step()
{
	STEP=$1
	say "" "#### $1 $2" ""
}

# show_frame PORT HEX: the frame as it enters the switch.
show_frame()
{
	say '```text' "$(fields "$2")" "$(describe "$2")" '```'
}

# show_trace: the step's trace lines.
show_trace()
{
	say "" "\`ctl trace\` printed (time stamp cut off):" "" '```text'
	printf '%s\n' "${TR_NEW[@]}" >>"$DOC"
	say '```'
}

# show_rx IN: what pktio received on every host; IN: the port the frame
# was sent on (shown so, if nothing came back to it).
show_rx()
{
	local i l j h any
	say "" "What pktio received, on every host:" "" '```text'
	for i in "${!NAMES[@]}"; do
		any=
		for l in "${PKT_RX[@]}"; do
			read -r _ j h <<<"$l"
			[ "$j" = "$i" ] || continue
			printf '%-6s %-15s %s\n' "${NAMES[i]}" "${WHO[i]}" \
				"$(describe "$h")" >>"$DOC"
			any=1
		done
		[ -n "$any" ] && continue
		if [ "$i" = "$1" ]; then
			printf '%-6s %-15s %s\n' "${NAMES[i]}" "${WHO[i]}" \
				"(sent it)" >>"$DOC"
		else
			printf '%-6s %-15s %s\n' "${NAMES[i]}" "${WHO[i]}" \
				"-" >>"$DOC"
		fi
	done
	say '```' ""
}

# walk IN HEX [explain]: write HEX into port IN from its host's side (as
# the host's device would send it), and show it, its trace line and what
# every host received.  The switch is asked to `explain` the frame first:
# its answer must be the trace line; with "explain", the page shows it.
walk()
{
	local in=$1 hex=$2 ex
	ex=$(ctl explain dev "${NAMES[in]}" frame "$hex") ||
		fail "explain dev ${NAMES[in]} frame $hex failed"
	say "" "pktio writes this frame into **${NAMES[in]}**:" ""
	show_frame "$in" "$hex"
	if [ "${3:-}" = explain ]; then
		say "" "Before it is sent, the switch is asked what it would do with it:" \
			"" '```text' "ctl explain dev ${NAMES[in]} frame $hex" "$ex" '```'
	fi
	pkt "send $in $hex"
	trace_wait 1
	[ "${#TR_NEW[@]}" = 1 ] ||
		problem "$STEP: ${#TR_NEW[@]} trace lines for one frame"
	[ "$ex" = "${TR_NEW[0]}" ] ||
		problem "$STEP: explain said \"$ex\", trace \"${TR_NEW[0]}\""
	delivered_matches "$STEP"
	show_trace
	show_rx "$in"
}

# walk_kernel IN N CMD...: show and run CMD (which makes the kernel
# behind port IN send), wait for N trace lines, then collect what was
# delivered; show them.
walk_kernel()
{
	local in=$1 n=$2
	shift 2
	say "" '```sh'
	printf '%s\n' "$*" | norm >>"$DOC"
	say '```'
	pkt "wait 0"
	[ "${#PKT_RX[@]}" = 0 ] || problem "$STEP: frames before the step: ${PKT_RX[*]}"
	timeout 10 "$@" >/dev/null 2>&1 || true
	trace_wait "$n"
	[ "${#TR_NEW[@]}" = "$n" ] ||
		problem "$STEP: ${#TR_NEW[@]} trace lines, $n expected"
	pkt "wait $PKT_SETTLE"
	delivered_matches "$STEP"
	show_trace
	show_rx "$in"
}

# ======================================================== the page itself

# The example of "Reading a trace line": step 4.1's line, checked there.
EXAMPLE="vetha 46 02:5e:ed:00:00:0a > ff:ff:ff:ff:ff:ff ethertype 0x8100 vlan 100 tagged pcp 0 learn new lookup broadcast flood -> b100:untagged tap0:tagged eth0:tagged"

text <<'EOF'
# Walkthrough: the seed's ARP walks, frame by frame

<!-- Generated by docs/walkthrough.sh; do not edit by hand.
     tests/netns/test_walkthrough.sh fails when this page differs from
     what the script prints.  Regenerate (as root):
     docs/walkthrough.sh -o docs/walkthrough.md -->

The seed document `004_5584f62406c3fc4a.txt` ("Linux 上的基础网络设备详解",
a walk through the Linux bridge, 802.1Q VLAN devices, veth and tap)
ends with an example network and follows ARP frames through it, one
figure per case (figures 4 to 8). This page builds the same network with
tapswitch as the central bridge and sends the same frames through it,
one at a time. For every frame it shows:

- the frame, byte by byte, as it enters the switch;
- the line `tapswitchctl trace` printed for it: what the switch decided;
- what every host of the lab received, and whether with a tag;
- why: which rule of the switch made it so.

Everything below was printed by a real run of `docs/walkthrough.sh`: the
trace lines and the received frames are not typed by hand, and a test
fails if the code no longer does what this page says.

## Reading a trace line

`tapswitchctl trace` prints one line per frame the switch handles
(`tapswitchctl explain` prints the same line for a frame you give it,
without sending it). The time stamp each line starts with is cut off on
this page. For example:

```text
EOF
say "$EXAMPLE"
cat >>"$DOC" <<'EOF'
```

| part | meaning |
|---|---|
| `vetha 46` | the port the frame came in on, and its length in bytes |
| `02:5e:ed:00:00:0a > ff:ff:ff:ff:ff:ff` | source MAC > destination MAC |
| `ethertype 0x8100` | the outer ethertype: 0x8100 means an 802.1Q tag comes first |
| `vlan 100 tagged pcp 0` | the VLAN the switch put the frame in, and how it knew: `tagged` (the frame's tag), `untagged` (no tag: the port's PVID), `priority` (a tag with VID 0: the PVID); the priority |
| `learn new` | what the switch learned from the source MAC, in that VLAN: `new`, `refreshed`, `moved` from another port, ... |
| `lookup broadcast` | what it found for the destination: `broadcast`, `multicast`, `miss` (unknown unicast), `hit PORT` |
| `flood` / `forward` / `drop REASON` | the verdict: copies to every member of the VLAN but the ingress port; one copy to the port found; or none, and why |
| `-> b100:untagged tap0:tagged ...` | the copies: each egress port, and whether the frame leaves it with the tag or without |
EOF

text <<'EOF'

## The seed's network, and how it is built here

The seed's example (section "网络设置举例说明") has one central bridge,
`bridge0`, with four devices attached: two veth pairs, the tap device
`tap0` (read and written by a program), and the physical NIC `eth0`,
cabled to an external network. The far end of each veth pair is an
802.1Q VLAN parent with two children, `vlan100` and `vlan200` (a parent
and its children share one MAC). `eth0` has a VLAN 200 child of its own,
and `bridge0` itself has an IP address: the hidden port through which the
host's own stack talks to the bridge.

This lab builds it with network namespaces, one per party, and a
tapswitch in a namespace of its own holding all six taps:

```text
  ns x: the far end   ns y: the far end of     ns t: the      ns e: the       ns b: bridge0's
  of veth pair 1,     veth pair 2, as its      program on     external        own stack
  whose children      two VLAN children;       tap0           network         (198.18.1.1/24
  vlan100, vlan200    host A = its vlan100                                    once figure 5b
  send                child                                                   gives it one)
       |                 |            |              |              |              |
     vetha             b100         b200           tap0           eth0            br0
  1: PVID, untagged  100: PVID,   200: PVID,     1: PVID,       1: PVID,       1: PVID,
  100, 200: tagged   untagged     untagged,      untagged       untagged       untagged
                                  reorder_hdr    100, 200:      100, 200:
                                  off            tagged         tagged
       |                 |            |              |              |              |
       +-----------------+------------+-- tapswitch --+--------------+--------------+
                        "bridge0", vlan_filtering 1 (in ns sw, which holds the taps)
```

**VLAN devices.** The kernel this lab runs on has no 8021q module, so
there are no VLAN devices; tapswitch does their work. In the seed,
`bridge0` is a plain bridge that floods every frame to every port, and
the VLAN devices behind the ports filter, tag and untag. Here tapswitch
filters VLANs itself (`vlan_filtering 1`), so:

- a VLAN child that *receives* (Y's, behind veth pair 2) is an **access
  port** of its VLAN: PVID and egress untagged, as `b100` and `b200`. A
  frame of VLAN 100 leaves `b100` without its tag, as the child device
  would hand it up without the tag. The seed's `reorder_hdr = 0` on the
  vlan200 child is `port set b200 reorder_hdr off`: the tag stays on;
- the children that *send* (X's, behind veth pair 1) are frames arriving
  **tagged** on `vetha`, a trunk port (VLANs 100 and 200 tagged): that is
  what the parent puts on the wire. The parent itself sends and receives
  untagged, in VLAN 1;
- a port gets a VLAN's frames only as a member of it. So that `tap0` and
  `eth0` see what the seed says they see (the plain `bridge0` gives them
  everything), they are members of VLANs 100 and 200, tagged;
- `bridge0`'s own stack is the port `br0`, in VLAN 1 only.

**Hosts.** X, Y and E have no IP configuration: pktio (`tests/tools/pktio`,
one raw socket on each port's host side) writes their frames exactly as
their devices would send them, and reports every frame any host receives.
T and B are real kernel stacks for the walks that need one (figures 5b
and 7). All addresses are fixed, from the benchmarking range: the seed's
subnets of VLAN 100 and VLAN 200 are 198.18.100.0/24 and 198.18.200.0/24
here (host numbers kept), VLAN 1 is 198.18.1.0/24.

| MAC | who |
|---|---|
| `02:5e:ed:00:00:0a` | X: the parent and its children vlan100 (198.18.100.2) and vlan200 (198.18.200.2) |
| `02:5e:ed:00:00:0b` | Y: its children; host A is its vlan100 child (198.18.100.3) |
| `02:5e:ed:00:00:7a` | T: the program on tap0 (198.18.1.2 in figure 7) |
| `02:5e:ed:00:00:e0` | E: a host of the external network |
| `02:5e:ed:00:00:b0` | B: bridge0 itself (198.18.1.1) |

**Direction.** In the seed a program holds `tap0`'s file descriptor and
the bridge sits on the kernel side. Here tapswitch holds every tap's
file descriptor, and the tap's device, moved into a host namespace, is
the host's network card. What the seed's program read()s from tap0 is
what arrives on `tap0` in namespace t; what it write()s into tap0 is what
is sent there (figure 8).

## Setting up the lab

In the commands, `ctl` stands for `tapswitchctl --ctl $SOCK`, and
namespace names are shown without the random prefix the script gives
them. Each namespace gets IPv6 disabled (so that no host sends anything
by itself) and its loopback up.

```sh
EOF

ns_add "$NSW" "$NX" "$NY" "$NT" "$NE" "$NB"
say "ip netns add sw; ip netns add x; ip netns add y; ip netns add t; ip netns add e; ip netns add b"
args=()
for p in "${NAMES[@]}"; do
	args+=(--port "$p")
done
say "ip netns exec sw tapswitch --ctl \$SOCK --vlan-filtering 1 ${args[*]} &"
# (TS_DAEMON_ARGS: as lib.sh's daemon_start; the page must not change)
# shellcheck disable=SC2086 # TS_DAEMON_ARGS: words, on purpose
ip netns exec "$NSW" "$TAPSWITCH" --ctl "$TS_SOCK" --vlan-filtering 1 \
	"${args[@]}" ${TS_DAEMON_ARGS:-} >>"$TS_LOG" 2>&1 &
TS_DAEMON_PID=$!
for ((i = 0; i < 50; i++)); do
	ctl show >/dev/null 2>&1 && break
	pid_alive "$TS_DAEMON_PID" ||
		fail "tapswitch exited at start-up:$(printf '\n'; cat "$TS_LOG")"
	sleep 0.1
done
ctl show >/dev/null 2>&1 || fail "tapswitch does not answer on $TS_SOCK"
say "until ctl show >/dev/null 2>&1; do sleep 0.1; done" \
	"# each tap into its host's namespace, a fixed MAC, up"
for i in "${!NAMES[@]}"; do
	mac=${PMAC[i]}
	cmd ip -n "$NSW" link set dev "${NAMES[i]}" netns "${PNS[i]}"
	cmd ip -n "${PNS[i]}" link set dev "${NAMES[i]}" address "${!mac}" up
done
for p in "${NAMES[@]}"; do
	wait_forwarding "$p"
done
say "# the VLAN children: access ports; b200 keeps the tag (reorder_hdr 0)"
ctl_show vlan add dev b100 vid 100 pvid untagged
ctl_show vlan del dev b100 vid 1
ctl_show vlan add dev b200 vid 200 pvid untagged
ctl_show vlan del dev b200 vid 1
ctl_show port set b200 reorder_hdr off
say "# veth pair 1: the parent untagged (VLAN 1), its children tagged"
ctl_show vlan add dev vetha vid 100
ctl_show vlan add dev vetha vid 200
say "# tap0 and eth0: VLAN 1 untagged, 100 and 200 tagged; br0: VLAN 1 only"
for p in tap0 eth0; do
	ctl_show vlan add dev "$p" vid 100
	ctl_show vlan add dev "$p" vid 200
done
ctl fdb flush >/dev/null || fail "fdb flush"
say '```' "" "The membership, as \`bridge vlan show\` would print it:" "" '```text'
ctl_show vlan show
say '```'

pkt_start
trace_start

text <<'EOF'

The walks below run in this order, each on the table the previous ones
left: the switch learns as it goes. One `ctl trace` runs throughout
(started before the first frame); its lines are shown with each step.
EOF

# ------------------------------------------------------------ figure 4

text <<'EOF'

## Figure 4: ARP from the vlan100 child

**The seed.** A user on X pings host .3 of VLAN 100's subnet
(198.18.100.3 here). X's vlan100 child sends an
ARP request; the VLAN device tags it with VID 100 and passes it to its
parent (steps 1-3); the veth pair turns the send into a receive at its
other end, which is attached to bridge0 (4-5). bridge0 sees a broadcast
and floods it to every other port (6): the program on tap0 reads it
tagged, eth0 sends it out tagged (eth0's own vlan200 child does not get
it: that frame is being sent, not received), and veth pair 2 carries it
to Y (7). Y's parent has two children: the vlan100 child matches the tag
and gets the frame without it, a plain Ethernet ARP again; the vlan200
child does not (8). (Steps 9-11 go on through a second bridge to a
second tap; here Y's vlan100 child is host A itself.)

**Here.** The request arrives on `vetha` tagged 100.
EOF

req4=$(tg "$(arp 1 $BC $MX 198.18.100.2 198.18.100.3)" 100)
step 4.1 "X's vlan100 child asks: who has 198.18.100.3?"
walk $P_VETHA "$req4"
[ "${TR_NEW[0]}" = "$EXAMPLE" ] ||
	problem "the example of \"Reading a trace line\" is not step 4.1's line"
text <<'EOF'
Why: the frame's tag puts it in VLAN 100, of which `vetha` is a member
(a tagged frame of a VLAN the port is not in would be dropped). The
switch learns X's MAC in VLAN 100 on `vetha`. A broadcast is flooded to
every other member of VLAN 100: `b100`, whose membership is untagged, so
the tag comes off (the seed's step 8), and `tap0` and `eth0`, tagged
members, so it stays on (step 6). `b200` and `br0` are not in VLAN 100
and get nothing: the switch does the VLAN children's filtering.
EOF

step 4.2 "A answers"
say "" "Host A (198.18.100.3, Y's vlan100 child) answers X with an ARP reply:" \
	"a unicast frame, sent untagged on its access port."
walk $P_B100 "$(arp 2 $MX $MY 198.18.100.3 198.18.100.2 $MX)"
text <<'EOF'
Why: the untagged frame joins `b100`'s PVID, VLAN 100. A's MAC is new
there and is learned on `b100`. The destination, X's MAC, was learned in
VLAN 100 on `vetha` in step 4.1: a **hit**, so the reply goes to `vetha`
alone, not flooded, and with the tag of VLAN 100 put on, since `vetha`
is a tagged member. X's parent device would hand it to its vlan100
child.
EOF

step 4.3 "The same request, with eth0 out of VLAN 100"
say "" "The filtering switch differs from the seed's plain bridge0 where the" \
	"membership says so. Take VLAN 100 away from eth0, and X asks again:" \
	"" '```sh'
ctl_show vlan del dev eth0 vid 100
say '```' ""
walk $P_VETHA "$req4"
say '```sh'
ctl_show vlan add dev eth0 vid 100
say '```'
text <<'EOF'
Why: X's MAC is already known on `vetha` in VLAN 100: `learn
refreshed` (its age starts again). The flood reaches the members of VLAN
100 only, and `eth0` is not one any more: the external network no longer
hears VLAN 100. The last command makes it a member again.
EOF

# ------------------------------------------------------------ figure 5a

text <<'EOF'

## Figure 5 (the first): ARP from the vlan200 child

(The seed numbers two figures "5"; this page calls them 5a and 5b.)

**The seed.** As figure 4 with VLAN ID 200, except that Y's vlan200 child
has `reorder_hdr = 0`: it is asked to keep the VLAN tag of what it
receives. So it gets the ARP request with the VLAN 200 tag still on.

**Here.** The request arrives on `vetha` tagged 200; `b200` has
`reorder_hdr off`.
EOF

req5=$(tg "$(arp 1 $BC $MX 198.18.200.2 198.18.200.3)" 200)
step 5a.1 "X's vlan200 child asks: who has 198.18.200.3?"
walk $P_VETHA "$req5"
text <<'EOF'
Why: VLAN 200 this time. X's MAC is **new** again: the switch learns per
(VLAN, MAC), and X is known in VLAN 100 but not yet in VLAN 200 (the
seed's parent and children share one MAC; the table keeps one entry per
VLAN). The members of VLAN 200 get the flood: `tap0` and `eth0` tagged,
and `b200` tagged as well, although its membership is untagged: that is
`reorder_hdr off`. Y's vlan100 child (`b100`) gets nothing.
EOF

step 5a.2 "The same with reorder_hdr on"
say "" "For comparison, the same request with \`reorder_hdr\` back on:" "" '```sh'
ctl_show port set b200 reorder_hdr on
say '```' ""
walk $P_VETHA "$req5"
say '```sh'
ctl_show port set b200 reorder_hdr off
say '```'
text <<'EOF'
Why: with `reorder_hdr on` (the default) an untagged membership strips
the tag, as for `b100` in figure 4: `b200:untagged`, 42 bytes. The last
command puts the lab back as the seed has it.
EOF

# ------------------------------------------------------------ figure 5b

text <<'EOF'

## Figure 5 (the second): ARP from the central bridge

**The seed.** When bridge0 has an IP address, a program can send through
it directly: the kernel sends an ARP request from bridge0 itself. tap0
and the external network get it; the VLAN children do not, because of
VLAN ID filtering.

**Here.** bridge0's own stack is namespace b behind port `br0`. It gets
198.18.1.1/24, and the kernel there is told to ask only once for an
address (`mcast_solicit 1`), so that exactly one request comes:

```sh
EOF

cmd ip -n "$NB" addr add 198.18.1.1/24 dev br0
cmd ip netns exec "$NB" sysctl -qw net.ipv4.neigh.br0.mcast_solicit=1 \
	net.ipv4.neigh.br0.app_solicit=0
say '```'
step 5b.1 "bridge0's stack asks: who has 198.18.1.99?"
say "" "A program in namespace b pings 198.18.1.99; the kernel sends an ARP" \
	"request into **br0**, and nobody answers:"
walk_kernel $P_BR0 1 ip netns exec "$NB" ping -n -c 1 -W 1 198.18.1.99
text <<'EOF'
Why: the request is untagged, so it joins `br0`'s PVID, VLAN 1, and
bridge0's MAC is learned there. Every port is still a member of VLAN 1
except `b100` and `b200`, from which it was removed: they are the VLAN
children and get nothing. `tap0` and `eth0` get it, untagged (their VLAN
1 membership is untagged). `vetha` gets it too: that is X's parent
device itself, which receives untagged frames; its children, which only
see frames tagged with their VID, do not.
EOF

# ------------------------------------------------------------ figure 6

text <<'EOF'

## Figure 6: ARP from the external network

**The seed.** The external network's switch port is in VLAN 200, so a
request from outside arrives on eth0 tagged 200. Every VLAN 200 child
gets it; one with `reorder_hdr = 0` gets it with the tag.

**Here.** A host of the external network (E) sends on `eth0`.
EOF

step 6.1 "A host outside asks in VLAN 200: who has 198.18.200.2?"
walk $P_ETH0 "$(tg "$(arp 1 $BC $ME 198.18.200.50 198.18.200.2)" 200)"
text <<'EOF'
Why: `eth0` is a tagged member of VLAN 200, so the frame is accepted in
VLAN 200 and E's MAC learned there. Both VLAN 200 children get it: X's
through `vetha`, tagged (X's parent would untag it for its vlan200
child, the one that has 198.18.200.2), and Y's on `b200`, still tagged
(`reorder_hdr off`). The program on `tap0` reads it tagged. VLAN 100
(`b100`) and bridge0's stack (`br0`, VLAN 1) get nothing.
EOF

step 6.2 "The same request untagged"
say "" "Sent without a tag, the same kind of request belongs to \`eth0\`'s" \
	"PVID, VLAN 1:"
walk $P_ETH0 "$(arp 1 $BC $ME 198.18.1.50 198.18.1.7)"
text <<'EOF'
Why: an untagged frame joins the ingress port's PVID: VLAN 1. E's MAC is
**new** in VLAN 1 (it is known in VLAN 200 only). The members of VLAN 1
get it untagged: X's parent on `vetha`, the program on `tap0` and
bridge0's stack on `br0` (which does not answer: 198.18.1.7 is not its
address). None of the VLAN children does.
EOF

step 6.3 "A tag eth0 does not carry"
text <<'EOF'
The seed's description of a VLAN parent (figure 2) ends with: if eth0
receives a frame tagged with VLAN 101, for which it has no child, the
frame is dropped. Here:
EOF
walk $P_ETH0 "$(tg "$(arp 1 $BC $ME 198.18.200.50 198.18.200.2)" 101)"
text <<'EOF'
Why: `eth0` is not a member of VLAN 101. A tagged frame is accepted only
in a VLAN of its ingress port; this one is dropped (`drop vlan`, counted
in `eth0`'s `drop_vlan`) before anything is learned from it, so that a
frame the switch refuses cannot teach it a wrong port. Nobody gets
anything.
EOF

# ------------------------------------------------------------ figure 7

text <<'EOF'

## Figure 7: ping from the TAP device

**The seed.** tap0 gets an IP address, and a ping to an unknown address
of its subnet makes the kernel send an ARP request from tap0. But a frame
the kernel *sends* on a tap goes to the program that holds the tap's
file descriptor, not to the bridge: nothing reaches bridge0, and nothing
happens. (The figure's right half, eth0's own vlan200 child sending
straight out of eth0, never touches bridge0 and has no counterpart
here.)

**Here.** The direction is the same, but the program holding the tap's
file descriptor is tapswitch itself: what the kernel of namespace t sends
on `tap0` is exactly what enters the switch. So the same ping, from
198.18.1.2 on tap0's side to bridge0's stack (198.18.1.1), does go
through, in VLAN 1:

```sh
EOF
cmd ip -n "$NT" addr add 198.18.1.2/24 dev tap0
say '```'
step 7.1 "T pings bridge0's stack"
say "" "Four frames, from two kernels: T's ARP request, B's ARP reply, the" \
	"ICMP echo request and its reply."
walk_kernel $P_TAP0 4 ip netns exec "$NT" ping -n -c 1 -W 2 198.18.1.1
text <<'EOF'
Why: T's request is untagged on `tap0`: VLAN 1. T's MAC is learned in
VLAN 1 on `tap0` and the broadcast is flooded to VLAN 1's other members,
`vetha`, `eth0` and `br0`, untagged. B answers: its reply is a hit on
`tap0` (learned a moment ago), and B's MAC is refreshed on `br0`
(learned in figure 5b). The echo request and reply are hits both ways;
their sources are `refreshed`. The VLAN children see nothing of it.

The two kernels now know each other. After 5 seconds B would check T's
address again with a unicast ARP request; so that nothing happens behind
the next walk's back, their neighbour tables are emptied:

```sh
EOF
cmd ip -n "$NB" neigh flush dev br0
cmd ip -n "$NT" neigh flush dev tap0
say '```'

# ------------------------------------------------------------ figure 8

text <<'EOF'

## Figure 8: a frame written into the TAP device

**The seed.** A program can make tap0 send in two ways. Through a raw
socket bound to tap0 the frame is *sent* on tap0, so (as in figure 7)
it never reaches bridge0. But a program that open()s the tap device and
write()s a frame makes the kernel *receive* it on tap0, and bridge0
forwards it. The figure's frame is a unicast to host A, tagged with VLAN
100: bridge0 finds A's port, and A's VLAN child gets the frame without
the tag.

**Here.** pktio sends the frame on `tap0` in namespace t, which is what
enters the switch. The payload is a test pattern (ethertype 0x88b5, for
local experiments).
EOF

to_a=$(tg "$(frame $MY $MT 8)" 100)
step 8.1 "The program writes a frame to A, tagged 100"
walk $P_TAP0 "$to_a"
text <<'EOF'
Why: the tag puts the frame in VLAN 100, of which `tap0` is a member.
A's MAC was learned in VLAN 100 on `b100` when A answered in step 4.2:
a **hit**. One copy goes to `b100`, and leaves without the tag, since
`b100`'s membership is untagged: what the seed's VLAN child receives.
T's MAC is new in VLAN 100 (it was seen only in VLAN 1 so far).
EOF

step 8.2 "The same, after the switch forgot A"
say "" "Make the switch forget A, as ageing would after 300 seconds of silence:" \
	"" '```sh'
ctl_show fdb del $MY dev b100 vlan 100
say '```' ""
walk $P_TAP0 "$to_a"
text <<'EOF'
Why: A is unknown in VLAN 100 now: `lookup miss`. An unknown unicast is
flooded like a broadcast, to every member of the frame's VLAN: A gets it
(untagged), and so do X's parent and the external network (tagged), who
will ignore a frame that is not for them. This is how a switch reaches a
host it has not heard from yet.
EOF

step 8.3 "A speaks"
say "" "A sends a gratuitous ARP (an ARP request for its own address), as a" \
	"host does when its address comes up:"
walk $P_B100 "$(arp 1 $BC $MY 198.18.100.3 198.18.100.3)"
text <<'EOF'
Why: A's MAC is learned again in VLAN 100 on `b100` (`learn new`). The
request is a broadcast, so it is flooded in VLAN 100: tagged to the
trunk-like ports `vetha`, `tap0` and `eth0`.
EOF

step 8.4 "The program writes to A again"
walk $P_TAP0 "$to_a" explain
text <<'EOF'
Why: `explain` answered from the table as it was, without sending the
frame or learning from it, and the real frame did what it said: a
**hit** on `b100` again, one untagged copy. From learning (8.3) on, the
other ports no longer see this conversation.
EOF

step 8.5 "To A's MAC, tagged 200"
say "" "The same destination MAC, but tagged with VLAN 200:"
walk $P_TAP0 "$(tg "$(frame $MY $MT 9)" 200)"
text <<'EOF'
Why: in VLAN 200 this MAC is unknown: the table is per (VLAN, MAC), and
A is known only in VLAN 100. So the frame floods VLAN 200: `vetha` and
`eth0` tagged, and `b200` tagged as well (`reorder_hdr off`). It never
reaches A's port `b100`, which is not in VLAN 200: VLANs are separate
networks that happen to share the switch.
EOF

step 8.6 "To A's MAC, untagged"
walk $P_TAP0 "$(frame $MY $MT 10)"
text <<'EOF'
Why: untagged, the frame joins `tap0`'s PVID, VLAN 1, where A is not
known either (T's MAC is refreshed there: learned in figure 7). It
floods VLAN 1, untagged: X's parent, the external network and bridge0's
stack, none of which is A.
EOF

# ------------------------------------------------------------ the table

text <<'EOF'

## The forwarding table after the walks

`ctl fdb show` (its `age` column cut off, since it counts seconds):

```text
EOF
fdb=$(ctl fdb show) || fail "fdb show"
printf '%s\n' "$fdb" | sed -E 's/ age [0-9]+//' >>"$DOC"
text <<'EOF'
```

One line per (VLAN, MAC): the same MAC may be in several VLANs, as X's
(VLANs 100 and 200 on `vetha`), E's (1 and 200 on `eth0`) and T's (1,
100 and 200 on `tap0`). A is back in VLAN 100 on `b100` since step 8.3.
These are the entries the switch learned from the frames above; each
would age out after 300 seconds of silence (`ageing_time`). Per VLAN, the
table says where to send a frame for that MAC; everything not in it is
flooded in its VLAN.

## How this page is made

`docs/walkthrough.sh` builds the lab above in network namespaces it
creates (the switch in a namespace of its own, so its taps have the
plain names shown here), starts one `tapswitchctl trace`, and makes sure
the trace is live by sending a probe frame with a multicast source MAC
(dropped by the switch before anything is learned, and left out of this
page) until the trace shows it. Then it sends the frames one at a time
with `tests/tools/pktio`, which listens on every host. Each step waits
until the trace printed its line(s) and pktio collected what arrived.
For every frame pktio writes, the script first asks `ctl explain` about
it; it fails if `explain` and the trace line differ, or if the ports and
tags the trace lists are not exactly where pktio saw the frame arrive.
It removes everything it made when it exits.

To regenerate the page after a change (as root, from the top of the
tree; `BUILD` chooses the build directory, `build` by default):

```sh
docs/walkthrough.sh -o docs/walkthrough.md    # write it
docs/walkthrough.sh --check                   # compare; a diff if it differs
BUILD=build tests/run.sh netns test_walkthrough
```
EOF

# ------------------------------------------------------------ the end

daemon_alive || fail "tapswitch died"
if [ "${#WT_PROBLEMS[@]}" -gt 0 ]; then
	printf 'FAIL: %s\n' "${WT_PROBLEMS[@]}" >&2
	exit 1
fi
case $WT_MODE in
stdout) page ;;
file)
	if ! page >"$WT_FILE.tmp.$$" ||
		! mv "$WT_FILE.tmp.$$" "$WT_FILE"; then
		rm -f "$WT_FILE.tmp.$$"
		fail "cannot write $WT_FILE"
	fi
	;;
check)
	page >"$TS_TMP/page.md"
	if ! diff -u "$WT_FILE" "$TS_TMP/page.md" >"$TS_TMP/diff"; then
		echo "FAIL: $WT_FILE differs from what docs/walkthrough.sh prints now:" >&2
		cat "$TS_TMP/diff" >&2
		# (the switch did nothing wrong: no daemon log after the diff)
		: >"$TS_LOG"
		exit 1
	fi
	;;
esac
# The page is made: lib.sh's cleanup sees the run came to its end.
ts_done
exit 0
