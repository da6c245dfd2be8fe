#!/bin/bash
#
# run.sh - the A/B benchmark: the same two-host topology on each switch in
# turn, the same figures measured on each, side by side in one run.
#
#   BUILD=build bench/run.sh [--quick] [--backends LIST] [--tests LIST]
#                            [--out DIR] [--pktgen-cpu N|none]
#                            [--switch-cpus LIST|none]
#
#   --quick         a short run, about 75 s with every backend: 2 s TCP
#                   runs, 0.5 s frame windows, one run of each, learning
#                   passes cut at 3 s (default: 5 s TCP runs, 3 s frame
#                   windows, median of 3, learning passes up to 30 s)
#   --backends L    comma-separated, from: kbridge tapswitch tapswitch-busy
#                   tapswitch-afpacket tapswitch-afpacket-busy
#                   tapswitch-afxdp ovs ovs-tso vde (default: all; the
#                   -busy ones are left out when TAPSWITCH_BUSY_ARGS is
#                   set but empty).  The -afpacket and -afxdp ones run on
#                   veth pairs built exactly as the kernel bridge's,
#                   attached as ports of that kind
#   --tests L       comma-separated, from: tcp1 tcp4 ping pps64 pps1500
#                   mac1k mac64k mac1m, or the groups tcp, pps, mac
#                   (default: all)
#   --out DIR       where latest.md, latest.json, latest.png and latest.log
#                   go (default bench/results)
#   --pktgen-cpu N  pin the frame generator to CPU N ("none": not pinned;
#                   default the last CPU)
#   --switch-cpus L during the frame-rate runs, pin every userspace switch
#                   process to the CPUs in L (taskset list; "none": leave
#                   them be; default every CPU but the generator's)
#
# Environment: TAPSWITCH_ARGS (extra tapswitch options, e.g. "--pin-cpus
# 0"), TAPSWITCH_BUSY_ARGS (options of a second tapswitch run, measured
# for latency only; default "--poll-threads 1 --busy-poll 5000
# --pin-cpus 0": one thread spinning on one CPU long enough to cover the
# 2 ms between pings, the other CPU left to the hosts), OVS_PORTS (tap, the default,
# or veth), VDE_ARGS (default "--hashsize 1048576"), OVS_MAC_TABLE_SIZE,
# BENCH_LEARN_PPS (pace the MAC learning pass), BENCH_PERF=1 (profile
# the userspace switches: an extra tcp1 and pps64 run under perf record,
# reported in profile-BACKEND-KEY.txt beside the results), BENCH_KEEP_TMP=1 (keep the
# scratch directory, with every daemon's log, after the run).
#
# Prints the markdown table on stdout (progress on stderr).  Exit status 0
# when the harness ran, also when a backend was skipped; 1 on a harness
# error; 2 on bad usage.  See bench/README.md for what each figure means.

# Unset: the latency setting that pays on a small machine (README, "Benchmarks").
TAPSWITCH_BUSY_ARGS=${TAPSWITCH_BUSY_ARGS---poll-threads 1 --busy-poll 5000 --pin-cpus 0}

BENCH_LIB_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH_LIB_DIR/lib.sh"
# shellcheck source=bench/backends.sh
. "$BENCH_LIB_DIR/backends.sh"
# shellcheck source=bench/measure.sh
. "$BENCH_LIB_DIR/measure.sh"
# shellcheck source=bench/report.sh
. "$BENCH_LIB_DIR/report.sh"

ALL_BACKENDS=(kbridge tapswitch tapswitch-busy tapswitch-afpacket
	tapswitch-afpacket-busy tapswitch-afxdp ovs ovs-tso vde)
ALL_TESTS=(tcp1 tcp4 ping pps64 pps1500 mac1k mac64k mac1m)

declare -A BACKEND_LABEL=(
	[kbridge]="kernel bridge"
	[tapswitch]="tapswitch"
	[tapswitch-busy]="tapswitch busy-poll"
	[tapswitch-afpacket]="tapswitch afpacket (veth)"
	[tapswitch-afpacket-busy]="tapswitch afpacket busy-poll"
	[tapswitch-afxdp]="tapswitch afxdp (veth)"
	[ovs]="OVS netdev"
	[ovs-tso]="OVS netdev + TSO"
	[vde]="VDE"
)

usage()
{
	# The synopsis and options from the comment at the top.
	awk '/^#   BUILD=/ { on = 1 } /^# Environment/ { exit } on' "$0" |
		sed 's/^# \{0,1\}//' >&"$((${1:-2} == 0 ? 1 : 2))"
	exit "${1:-2}"
}

quick=0
backends_arg=
tests_arg=
out_dir=$BENCH_TOP/bench/results
PKTGEN_CPU=$(($(nproc) - 1))
SWITCH_CPUS=default
BENCH_COMMAND="bench/run.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--backends) backends_arg=${2:?}; shift ;;
	--backends=*) backends_arg=${1#*=} ;;
	--tests) tests_arg=${2:?}; shift ;;
	--tests=*) tests_arg=${1#*=} ;;
	--out) out_dir=${2:?}; shift ;;
	--out=*) out_dir=${1#*=} ;;
	--pktgen-cpu) PKTGEN_CPU=${2:?}; shift ;;
	--pktgen-cpu=*) PKTGEN_CPU=${1#*=} ;;
	--switch-cpus) SWITCH_CPUS=${2:?}; shift ;;
	--switch-cpus=*) SWITCH_CPUS=${1#*=} ;;
	-h | --help) usage 0 ;;
	*)
		echo "bench: unknown argument \"$1\"" >&2
		usage
		;;
	esac
	shift
done
[ "$PKTGEN_CPU" = none ] && PKTGEN_CPU=
if [ -n "$PKTGEN_CPU" ] && ! [[ $PKTGEN_CPU =~ ^[0-9]+$ ]]; then
	echo "bench: --pktgen-cpu: a CPU number or \"none\"" >&2
	usage
fi
case $SWITCH_CPUS in
none) SWITCH_CPUS= ;;
default)
	# Every CPU but the generator's (none to spare on one CPU).
	SWITCH_CPUS=
	if [ -n "$PKTGEN_CPU" ] && [ "$(nproc)" -gt 1 ]; then
		for ((c = 0; c < $(nproc); c++)); do
			[ "$c" = "$PKTGEN_CPU" ] || SWITCH_CPUS+=${SWITCH_CPUS:+,}$c
		done
	fi
	;;
*)
	[[ $SWITCH_CPUS =~ ^[0-9,-]+$ ]] || {
		echo "bench: --switch-cpus: a CPU list (0,2-3) or \"none\"" >&2
		usage
	}
	;;
esac

# The backends and tests asked for, in canonical order.
RUN_BACKENDS=()
if [ -z "$backends_arg" ] || [ "$backends_arg" = all ]; then
	for b in "${ALL_BACKENDS[@]}"; do
		[[ $b == *-busy ]] && [ -z "${TAPSWITCH_BUSY_ARGS:-}" ] &&
			continue
		RUN_BACKENDS+=("$b")
	done
else
	IFS=, read -r -a asked <<<"$backends_arg"
	for a in "${asked[@]}"; do
		[[ " ${ALL_BACKENDS[*]} " == *" $a "* ]] || {
			echo "bench: unknown backend \"$a\" (${ALL_BACKENDS[*]})" >&2
			usage
		}
	done
	for b in "${ALL_BACKENDS[@]}"; do
		[[ ",$backends_arg," == *",$b,"* ]] && RUN_BACKENDS+=("$b")
	done
fi
RUN_TESTS=()
if [ -z "$tests_arg" ] || [ "$tests_arg" = all ]; then
	RUN_TESTS=("${ALL_TESTS[@]}")
else
	tests_arg=,$tests_arg,
	tests_arg=${tests_arg//,tcp,/,tcp1,tcp4,}
	tests_arg=${tests_arg//,pps,/,pps64,pps1500,}
	tests_arg=${tests_arg//,mac,/,mac1k,mac64k,mac1m,}
	IFS=, read -r -a asked <<<"${tests_arg#,}"
	for a in "${asked[@]}"; do
		[ -z "$a" ] && continue
		[[ " ${ALL_TESTS[*]} " == *" $a "* ]] || {
			echo "bench: unknown test \"$a\" (${ALL_TESTS[*]}, tcp, pps, mac)" >&2
			usage
		}
	done
	for t in "${ALL_TESTS[@]}"; do
		[[ $tests_arg == *",$t,"* ]] && RUN_TESTS+=("$t")
	done
fi

if [ "$quick" = 1 ]; then
	TCP_SECS=2 PPS_SECS=0.5 PPS_WARMUP=0.2 REPEAT=1 PING_COUNT=200
	LEARN_MAX_SECS=3
else
	TCP_SECS=5 PPS_SECS=3 PPS_WARMUP=0.5 REPEAT=3 PING_COUNT=1000
	LEARN_MAX_SECS=30
fi

bench_init
command -v gnuplot >/dev/null 2>&1 || die "no gnuplot (make bench-deps installs gnuplot-nox)"
BENCH_STARTED=$(date +%s)
LOADAVG=$(cut -d ' ' -f 1-3 /proc/loadavg)
KBRIDGE_NF=

say "bench: backends ${RUN_BACKENDS[*]}; tests ${RUN_TESTS[*]}; $([ "$quick" = 1 ] && echo quick || echo full) mode; id $BENCH_ID"

# run_test NAME: one figure on the current backend.
run_test()
{
	case $1 in
	tcp1) m_tcp 1 tcp1 ;;
	tcp4) m_tcp 4 tcp4 ;;
	ping) m_ping ;;
	pps64) m_pps 64 pps64 ;;
	pps1500) m_pps 1500 pps1500 ;;
	mac1k) m_mac 1000 mac1k ;;
	mac64k) m_mac 65536 mac64k ;;
	mac1m) m_mac 1048576 mac1m ;;
	esac
}

for BACKEND in "${RUN_BACKENDS[@]}"; do
	id=${BACKEND//-/_}
	result "$BACKEND" _label "${BACKEND_LABEL[$BACKEND]}"
	say "== ${BACKEND_LABEL[$BACKEND]}"
	if ! why=$("be_${id}_check"); then
		say "  skipped: $why"
		result "$BACKEND" _status "skipped: $why"
		continue
	fi
	IPERF_SERVER_PID=
	t0=$(date +%s)
	if ! "be_${id}_up" >"$BENCH_TMP/up.txt" 2>&1; then
		why=$(grep -v '^$' "$BENCH_TMP/up.txt" | tail -n 1)
		why=${why:-$(log_tail 2)}
		say "  skipped: did not start: $why"
		result "$BACKEND" _status "skipped: did not start: $why"
		"be_${id}_down"
		continue
	fi
	result "$BACKEND" _ports "$PORT_KIND ports"
	result "$BACKEND" _status ok
	case $BACKEND in
	kbridge)
		note "$BACKEND" "bridge-nf-call-iptables is $KBRIDGE_NF in the bridge's namespace (read, not changed)"
		;;
	ovs | ovs-tso)
		note "$BACKEND" "${PORT_KIND} ports; mac-table-size $OVS_MAC_TABLE_SIZE for the MAC-scale runs"
		;;
	vde) note "$BACKEND" "vde_switch $VDE_ARGS" ;;
	tapswitch*)
		args=TAPSWITCH_ARGS
		[[ $BACKEND == *-busy ]] && args=TAPSWITCH_BUSY_ARGS
		note "$BACKEND" "$PORT_KIND ports; daemon options: ${!args:-none}"
		[ "$PORT_KIND" != afxdp ] ||
			note "$BACKEND" "host veths with ethtool -K tx off (XDP frames carry no checksum offload)"
		;;
	esac
	for t in "${RUN_TESTS[@]}"; do
		# The busy-poll run is a latency row only.
		[[ $BACKEND == tapswitch*-busy ]] && [ "$t" != ping ] && continue
		t1=$(date +%s%N)
		run_test "$t" || say "    $t: not measured"
		say "      ($t: $((($(date +%s%N) - t1) / 1000000)) ms)"
		if ! sw_alive; then
			note "$BACKEND" "the switch process died during $t"
			result "$BACKEND" _status "failed: died during $t"
			break
		fi
	done
	"be_${id}_down"
	say "  ($(($(date +%s) - t0)) s)"
done

# ----------------------------------------------------------- the outputs

versions='{}'
for p in iperf3 openvswitch-switch vde2 gnuplot-nox iproute2 iputils-ping; do
	v=$(deb_version "$p")
	[ -n "$v" ] && versions=$(jq -c --arg p "$p" --arg v "$v" '. + {($p): $v}' <<<"$versions")
done
ts_version=$("$TAPSWITCH" --version 2>/dev/null | awk '{ print $NF }')
tree=$(git -C "$BENCH_TOP" describe --always --dirty 2>/dev/null || echo unknown)
root_nf=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null ||
	echo "absent (br_netfilter not loaded)")
jq -n --arg kernel "$(uname -r)" \
	--arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
	--argjson nproc "$(nproc)" \
	--arg date "$(date -u -d "@$BENCH_STARTED" +%Y-%m-%dT%H:%M:%SZ)" \
	--arg loadavg "$LOADAVG" --arg nf "$root_nf" --arg nfsw "$KBRIDGE_NF" \
	--arg ts "${ts_version:-unknown}" --arg tree "$tree" \
	--argjson versions "$versions" '{
		kernel: $kernel, cpu: $cpu, nproc: $nproc, date: $date,
		loadavg: $loadavg,
		bridge_nf_call_iptables: $nf,
		bridge_nf_call_iptables_switch_ns: (if $nfsw == "" then null else $nfsw end),
		versions: ($versions + {tapswitch: $ts, tree: $tree})
	}' >"$BENCH_TMP/machine.json" || die "machine info"
jq -n --arg mode "$([ "$quick" = 1 ] && echo quick || echo full)" \
	--argjson tcp "$TCP_SECS" --argjson pps "$PPS_SECS" \
	--argjson warm "$PPS_WARMUP" --argjson repeat "$REPEAT" \
	--argjson ping "$PING_COUNT" --argjson learn "$LEARN_MAX_SECS" \
	--arg cpu "$PKTGEN_CPU" --arg swcpus "$SWITCH_CPUS" \
	--arg tsargs "${TAPSWITCH_ARGS:-}" \
	--arg tbargs "${TAPSWITCH_BUSY_ARGS:-}" --arg ovs "${OVS_PORTS:-tap}" \
	--arg vde "$VDE_ARGS" --arg ovsmac "$OVS_MAC_TABLE_SIZE" \
	--arg lpps "${BENCH_LEARN_PPS:-}" \
	--arg tests "${RUN_TESTS[*]}" '{
		mode: $mode, tests: ($tests | split(" ")),
		tcp_secs: $tcp, pps_secs: $pps, pps_warmup: $warm,
		repeat: $repeat, ping_count: $ping, learn_max_secs: $learn,
		learn_pps: (if $lpps == "" then null else ($lpps | tonumber) end),
		pktgen_cpu: (if $cpu == "" then null else ($cpu | tonumber) end),
		switch_cpus_frames: (if $swcpus == "" then null else $swcpus end),
		frame_len: "RFC 2544: with the 4-byte FCS, which the kernel does not carry (64 -> 60 bytes written)",
		ethertype: "0x88b5",
		tapswitch_args: $tsargs, tapswitch_busy_args: $tbargs,
		ovs_ports: $ovs, ovs_mac_table_size: ($ovsmac | tonumber),
		vde_args: $vde
	}' >"$BENCH_TMP/settings.json" || die "settings"

new=$BENCH_TMP/out
mkdir -p "$new"
report_json "$new/latest.json" || die "could not write the JSON report"
report_md "$new/latest.json" >"$new/latest.md" || die "could not write the table"
png_ok=1
report_png "$new/latest.json" "$new/latest.png" 2>>"$BENCH_LOG" || png_ok=0
cp "$BENCH_LOG" "$new/latest.log"

mkdir -p "$out_dir" || die "cannot make $out_dir"
# The output directory holds what this run wrote, and only that.
rm -f "$out_dir/latest.md" "$out_dir/latest.json" "$out_dir/latest.png" \
	"$out_dir/latest.log" "$out_dir"/profile-*.txt
cp "$new"/latest.* "$out_dir/" || die "cannot write to $out_dir"
if compgen -G "$BENCH_TMP/profile-*.txt" >/dev/null; then
	cp "$BENCH_TMP"/profile-*.txt "$out_dir/" || die "cannot write to $out_dir"
	say "bench: profiles in $out_dir/profile-*.txt"
fi

cat "$out_dir/latest.md"
say "bench: wrote $out_dir/latest.{md,json,png,log} in $(($(date +%s) - BENCH_STARTED)) s"
[ "$png_ok" = 1 ] || die "gnuplot failed (see $out_dir/latest.log)"
exit 0
