#!/bin/sh
# bench/micro.sh - run the microbenchmarks: the pipeline alone over sink
# ports, as poll threads run it (dp_worker_run(), bench/micro_pipeline.c),
# and the forwarding table alone, resized by fdb_maintain() as the daemon's
# ager does (bench/micro_fdb.c).  Prints their tables and writes one JSON
# file, DIR/micro.json = {"pipeline": ..., "fdb": ...}.
#
#   bench/micro.sh [--quick] [--out DIR]      (DIR: bench/results)
#   make bench-micro MICRO_ARGS="--quick"
#
# Builds nothing: `make bench-micro` builds the binaries into $BUILD/bench
# (BUILD=build unless set) and then runs this; BUILD=build-asan runs a
# sanitizer build's.  --quick runs every scenario once for about a second
# (about half a minute in all); the full run repeats each five times
# (about two minutes).  Each benchmark is bounded by `timeout` (4 minutes,
# 2 with --quick).  Exits non-zero if a benchmark failed or found that a
# scenario did not do what it should.
#
# The figures are per core (thread CPU time), but a 2-core VM is noisy:
# the tables say how much CPU other processes took meanwhile ("other"),
# and its vCPUs swing between two speeds for tens of seconds at a time,
# so compare two builds with interleaved runs, on their best and median.
set -eu

usage() {
	sed -n '2,23s/^# \{0,1\}//p' "$0"
}

quick=
out=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=--quick ;;
	--out)
		if [ $# -lt 2 ]; then
			echo "Error: --out needs a directory" >&2
			exit 2
		fi
		out=$2
		shift ;;
	--out=*) out=${1#--out=} ;;
	-h|--help) usage; exit 0 ;;
	*) echo "Error: argument \"$1\" is wrong: unknown" >&2; exit 2 ;;
	esac
	shift
done

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=${out:-$root/bench/results}
for b in micro_pipeline micro_fdb; do
	if [ ! -x "$build/bench/$b" ]; then
		echo "Error: $build/bench/$b is missing:" \
			"run make bench-micro" >&2
		exit 1
	fi
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -n "$quick" ]; then limit=120; else limit=240; fi
bounded() {
	if command -v timeout >/dev/null 2>&1; then
		timeout --kill-after=10 "$limit" "$@"
	else
		"$@"
	fi
}

rc=0
bounded "$build/bench/micro_pipeline" $quick --json "$tmp/pipeline.json" ||
	rc=$?
echo
bounded "$build/bench/micro_fdb" $quick --json "$tmp/fdb.json" || rc=$?

if [ -s "$tmp/pipeline.json" ] && [ -s "$tmp/fdb.json" ]; then
	{
		printf '{"generated":"%s","quick":%s,"pipeline":' \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
			"$([ -n "$quick" ] && echo true || echo false)"
		cat "$tmp/pipeline.json"
		printf ',"fdb":'
		cat "$tmp/fdb.json"
		printf '}\n'
	} >"$tmp/micro.json"
	if command -v jq >/dev/null 2>&1 &&
		! jq -e . "$tmp/micro.json" >/dev/null; then
		echo "Error: the benchmarks wrote JSON jq cannot read" >&2
		rc=1
	fi
	mv "$tmp/micro.json" "$out/micro.json"
	echo
	echo "wrote $out/micro.json"
else
	echo "Error: a benchmark wrote no results;" \
		"$out/micro.json not written" >&2
	[ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
