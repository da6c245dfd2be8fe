#!/bin/bash
#
# ab.sh - two builds of tapswitch compared, interleaved on one machine:
# the microbenchmarks (bench/micro.sh) and the tap rows of the A/B harness
# (bench/run.sh, the kernel bridge beside tapswitch in each run), A then B
# then A then B, so that a slow spell of the machine falls on both.
#
#   bench/ab.sh [--rounds N] [--quick] [--no-micro] [--no-run]
#               [--tests LIST] [--out DIR] BUILD_A BUILD_B
#
#   BUILD_A, BUILD_B  build directories with tapswitch, tapswitchctl and
#                     bench/{pktgen,micro_pipeline,micro_fdb} built (e.g.
#                     a clone of an older commit's build/, and build/)
#   --rounds N        rounds of A and B (default 2)
#   --quick           the harnesses' short modes
#   --tests LIST      run.sh's tests (default tcp1,tcp4,pps64,pps1500,ping)
#   --out DIR         where each run's results go (default a new directory
#                     under /tmp); a summary.md is written there
#
# Both builds are run with this tree's scripts: the options and output of
# the binaries must be the same in both (they are for any two commits that
# keep the command line).  Prints the summary: for each figure, every
# round's value for A and for B, and the median of each; tap figures also
# as their ratio to the kernel bridge in the same run, the number to
# compare.  Needs root (run.sh does), jq.

set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
rounds=2
quick=
micro=1
run=1
tests=tcp1,tcp4,pps64,pps1500,ping
out=

usage()
{
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" | sed '/^$/q' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift ;;
	--quick) quick=--quick ;;
	--no-micro) micro= ;;
	--no-run) run= ;;
	--tests) tests=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	-h | --help) usage ;;
	-*) echo "ab: unknown option $1" >&2; usage ;;
	*) break ;;
	esac
	shift
done
[ $# = 2 ] || usage
A=$(cd "$1" && pwd) || exit 2
B=$(cd "$2" && pwd) || exit 2
[[ $rounds =~ ^[1-9][0-9]*$ ]] || usage
[ -n "$out" ] || out=$(mktemp -d /tmp/tapswitch-ab.XXXXXX)
mkdir -p "$out" || exit 1

for b in "$A" "$B"; do
	for f in tapswitch tapswitchctl bench/pktgen bench/micro_pipeline \
		bench/micro_fdb; do
		[ -x "$b/$f" ] || { echo "ab: $b/$f is not built" >&2; exit 1; }
	done
done

cd "$TOP" || exit 1
for ((r = 1; r <= rounds; r++)); do
	for side in A B; do
		dir=$A
		[ $side = B ] && dir=$B
		if [ -n "$micro" ]; then
			echo "ab: round $r, $side: micro" >&2
			BUILD=$dir bench/micro.sh $quick \
				--out "$out/micro-$side-$r" >"$out/micro-$side-$r.log" 2>&1 ||
				echo "ab: micro $side $r failed (see its log)" >&2
		fi
		if [ -n "$run" ]; then
			echo "ab: round $r, $side: run" >&2
			BUILD=$dir bench/run.sh $quick --backends kbridge,tapswitch \
				--tests "$tests" --out "$out/run-$side-$r" \
				>"$out/run-$side-$r.log" 2>&1 ||
				echo "ab: run $side $r failed (see its log)" >&2
		fi
	done
done

# The median of the numbers on stdin.
median()
{
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One row: the figure, A's values, B's values, the medians, B/A.
row()
{
	local label=$1 va=$2 vb=$3 ma mb
	ma=$(tr ' ' '\n' <<<"$va" | grep -v '^$' | median)
	mb=$(tr ' ' '\n' <<<"$vb" | grep -v '^$' | median)
	printf '| %s | %s | %s | %s | %s | %s |\n' "$label" "$va" "$vb" "$ma" "$mb" \
		"$(awk -v a="$ma" -v b="$mb" 'BEGIN { if (a + 0 > 0 && b != "-")
			printf "%.3f", b / a; else print "-" }')"
}

values()
{
	local kind=$1 side=$2 filter=$3 v=
	for ((r = 1; r <= rounds; r++)); do
		f=$out/$kind-$side-$r/$([ "$kind" = micro ] && echo micro.json || echo latest.json)
		[ -f "$f" ] && v+=" $(jq -r "$filter // empty" "$f" 2>/dev/null)"
	done
	echo "$v"
}

{
	echo "# A: $A"
	echo "# B: $B"
	echo
	echo "| figure | A | B | A median | B median | B/A |"
	echo "|---|---|---|---|---|---|"
	if [ -n "$micro" ]; then
		for sc in $(jq -r '.pipeline.scenarios[].name' \
			"$out/micro-A-1/micro.json" 2>/dev/null); do
			row "pipeline $sc (Mpps/core)" \
				"$(values micro A ".pipeline.scenarios[] | select(.name == \"$sc\") | .mpps_per_core")" \
				"$(values micro B ".pipeline.scenarios[] | select(.name == \"$sc\") | .mpps_per_core")"
		done
	fi
	if [ -n "$run" ]; then
		ts='.backends[] | select(.name == "tapswitch") | .figures'
		kb='.backends[] | select(.name == "kbridge") | .figures'
		for key in tcp1_gbps tcp4_gbps pps64_kpps pps1500_kpps \
			pps64_cpu_ns ping_avg_us; do
			row "tapswitch $key" "$(values run A "$ts.$key")" \
				"$(values run B "$ts.$key")"
			row "tapswitch $key / kernel bridge" \
				"$(values run A "(($ts.$key) / ($kb.$key)) * 1000 | round / 1000")" \
				"$(values run B "(($ts.$key) / ($kb.$key)) * 1000 | round / 1000")"
		done
	fi
} | tee "$out/summary.md"
echo "ab: results in $out" >&2
