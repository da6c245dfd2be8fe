# shellcheck shell=bash
#
# report.sh - the three outputs of a run, all from one JSON document:
#
#   report_json OUT   every figure, each backend's ratio to the kernel
#                     bridge, the notes, the machine and the settings
#   report_md JSON    the markdown table (rows: figures; columns: backends;
#                     each cell the figure and its ratio to the kernel bridge)
#   report_png JSON   the gnuplot bar chart of those ratios
#
# Ratios are always backend / kernel bridge, as the targets of issue 4
# are written: above 1 is better for rates, below 1 for times.

# The figures of the table, in order: key, label, unit, better, chart
# label (empty: not charted).  The generator's rates get no ratio in the
# table: they describe the load, not the switch.
FIGURES='tcp1_gbps	TCP, 1 stream	Gbit/s	higher	TCP 1 stream
tcp4_gbps	TCP, 4 streams	Gbit/s	higher	TCP 4 streams
pps64_kpps	64-byte frames delivered	kpps	higher	64 B frames
pps1500_kpps	1500-byte frames delivered	kpps	higher	1500 B frames
ping_avg_us	ping RTT, average	µs	lower	ping avg (lower=better)
ping_p99_us	ping RTT, 99th percentile	µs	lower	ping p99 (lower=better)
mac1k_kpps	64-byte frames, 1k source MACs	kpps	higher	1k MACs
mac64k_kpps	64-byte frames, 64k source MACs	kpps	higher	64k MACs
mac1m_kpps	64-byte frames, 1M source MACs	kpps	higher	1M MACs
pps64_cpu_ns	switch CPU per 64-byte frame	ns	lower	
pps64_sent_kpps	generator rate, 64-byte (sent)	kpps	higher	
pps64_offered_kpps	generator rate, 64-byte (offered)	kpps	higher	
mac1m_learn_kpps	learning pass, 1M source MACs	kpps	higher	'

# report_json OUT: from the results and notes files, the machine and
# settings documents, and the list of backends in run order.
report_json()
{
	local out=$1
	printf '%s\n' "$FIGURES" |
		jq -R 'split("\t") | {key: .[0], label: .[1], unit: .[2],
			better: .[3], chart: ((.[4] // "") != ""),
			chart_label: (.[4] // "")}' |
		jq -s . >"$BENCH_TMP/figures.json"
	jq -R 'split("\t") | {backend: .[0], key: .[1],
			value: (if (.[1] | test("_runs_")) then
					(.[2] | split(",") | map(tonumber? // .))
				else (.[2] | tonumber? // .) end)}' \
		"$BENCH_RESULTS" |
		jq -s . >"$BENCH_TMP/results.json"
	jq -R 'split("\t") | {backend: .[0], text: .[1]}' "$BENCH_NOTES" |
		jq -s . >"$BENCH_TMP/notes.json"
	printf '%s\n' "${RUN_BACKENDS[@]}" | jq -R . | jq -s . \
		>"$BENCH_TMP/order.json"
	jq -n \
		--slurpfile figures "$BENCH_TMP/figures.json" \
		--slurpfile results "$BENCH_TMP/results.json" \
		--slurpfile notes "$BENCH_TMP/notes.json" \
		--slurpfile order "$BENCH_TMP/order.json" \
		--slurpfile machine "$BENCH_TMP/machine.json" \
		--slurpfile settings "$BENCH_TMP/settings.json" \
		--arg command "$BENCH_COMMAND" \
		--argjson duration "$(($(date +%s) - BENCH_STARTED))" '
		($results[0]) as $r |
		($order[0]) as $names |
		def fig($b): [$r[] | select(.backend == $b and
			(.key | startswith("_") | not))] |
			map({(.key): .value}) | add // {};
		def meta($b; $k): [$r[] | select(.backend == $b and .key == $k)
			| .value] | last;
		($names | map({(.): fig(.)}) | add // {}) as $vals |
		{
		  schema: 1,
		  command: $command,
		  duration_s: $duration,
		  machine: $machine[0],
		  settings: $settings[0],
		  backends: [$names[] as $b | {
			name: $b,
			label: meta($b; "_label"),
			ports: meta($b; "_ports"),
			status: meta($b; "_status"),
			notes: [$notes[0][] | select(.backend == $b) | .text],
			figures: $vals[$b]
		  }],
		  figures: [$figures[0][] | . as $f | . + {
			values: ($names | map({(.): $vals[.][$f.key]}) | add),
			ratio_to_kbridge: ($names | map(
				($vals["kbridge"][$f.key]) as $k |
				($vals[.][$f.key]) as $v |
				{(.): (if ($k | type) == "number" and $k != 0 and
					($v | type) == "number"
				       then ($v / $k * 100 | round / 100)
				       else null end)}) | add)
		  }]
		}' >"$out"
}

# report_md JSON: the table, with the machine, the notes and the command.
report_md()
{
	jq -r '
	def num: if . == null then "–"
		elif (type == "number") then
			(if . >= 100 then (. | round | tostring)
			 elif . >= 10 then ((. * 10 | round) / 10 | tostring)
			 else ((. * 100 | round) / 100 | tostring) end)
		else tostring end;
	. as $d |
	[.backends[] | select(.status == "ok")] as $bs |
	"# tapswitch A/B benchmark\n",
	"`\(.command)` — \(.machine.date), \(.duration_s) s\n",
	"Machine: \(.machine.cpu), \(.machine.nproc) CPUs, Linux \(.machine.kernel), load average \(.machine.loadavg) at start. " +
	(if .machine.bridge_nf_call_iptables_switch_ns then
		"Kernel bridge with `bridge-nf-call-iptables` = \(.machine.bridge_nf_call_iptables_switch_ns) in its namespace " +
		"(root namespace: \(.machine.bridge_nf_call_iptables); read, not changed). "
	 else "" end) +
	"Frame sizes count the 4-byte FCS, RFC 2544 style (a 64-byte frame is 60 bytes handed to the kernel). " +
	"Each cell: the figure, and in brackets its ratio to the kernel bridge.\n",
	"| figure | " + ([$bs[] | "\(.label) (\(.ports))"] | join(" | ")) + " |",
	"|---|" + ([$bs[] | "---:"] | join("|")) + "|",
	(.figures[] | . as $f |
		[$bs[] | .name as $n | ($f.values[$n]) as $v |
			($f.ratio_to_kbridge[$n]) as $q |
			if $v == null then "–"
			elif $n == "kbridge" or $q == null or
				($f.key | test("_sent_|_offered_")) then ($v | num)
			else "\($v | num) (\($q)×)" end] as $cells |
		if ($cells | map(select(. != "–")) | length) == 0 then empty
		else "| \($f.label) (\($f.unit)\(if $f.better == "lower" then ", lower is better" else "" end)) | " + ($cells | join(" | ")) + " |" end),
	"",
	([.backends[] | select(.status != "ok") |
		"- **\(.label // .name)**: \(.status)"] | if length > 0 then
		("Not measured:\n" + join("\n") + "\n") else empty end),
	([.backends[] | select(.notes | length > 0) | .label as $l |
		.notes[] | "- \($l): \(.)"] | if length > 0 then
		("Notes:\n" + join("\n") + "\n") else empty end),
	"Settings: TCP \(.settings.tcp_secs) s per run, frame rates \(.settings.pps_secs) s windows after \(.settings.pps_warmup) s warm-up, " +
	"median of \(.settings.repeat); ping \(.settings.ping_count) requests 2 ms apart; " +
	"learning pass bounded at \(.settings.learn_max_secs) s; frame runs with the generator pinned to CPU \(.settings.pktgen_cpu // "none") " +
	"and the userspace switches to CPU(s) \(.settings.switch_cpus_frames // "any"). " +
	"tapswitch \(.machine.versions.tapswitch) (\(.machine.versions.tree))\(if .settings.tapswitch_args != "" then " with `\(.settings.tapswitch_args)`" else "" end), " +
	"Open vSwitch \(.machine.versions["openvswitch-switch"] // "–"), VDE \(.machine.versions.vde2 // "–"), iperf3 \(.machine.versions.iperf3 // "–")."
	' "$1"
}

# report_png JSON PNG: clustered bars, one cluster per charted figure, one
# bar per backend measured, the height its ratio to the kernel bridge.
report_png()
{
	local json=$1 png=$2 dat=$BENCH_TMP/chart.dat ncols i plot=
	jq -r '
		[.backends[] | select(.status == "ok")] as $bs |
		(["figure"] + [$bs[] | .label]) ,
		(.figures[] | select(.chart) |
			select([.ratio_to_kbridge[] | select(. != null)] | length > 0) |
			. as $f |
			[$f.chart_label] +
			[$bs[] | .name as $n | ($f.ratio_to_kbridge[$n] //
				"-" | tostring)])
		| map(gsub("\t"; " ")) | join("\t")' "$json" >"$dat"
	ncols=$(head -n 1 "$dat" | awk -F '\t' '{ print NF }')
	for ((i = 2; i <= ncols; i++)); do
		plot+="${plot:+, }'$dat' using $i:xtic(1) title columnhead($i)"
	done
	# Nothing to draw (the kernel bridge was not measured, or nothing
	# was): a chart that says so rather than no file.
	if ! tail -n +2 "$dat" | cut -f 2- | tr '\t' '\n' | grep -q '^[0-9]'; then
		plot="[0:1][0:1] NaN notitle"
		plot="unset logscale y; set label 1 'no ratios to show: the kernel bridge, or every other backend, was not measured' at graph 0.5, 0.5 center; unset xtics; unset ytics; unset arrow; plot $plot"
	else
		plot="plot $plot"
	fi
	gnuplot <<EOF
set terminal pngcairo size 1400,700 font "sans,10"
set output '$png'
set datafile separator "\t"
set datafile missing "-"
set title "$(jq -r '"tapswitch A/B bench: each backend / the kernel bridge, log scale (\(.machine.date), \(.machine.nproc) CPUs, Linux \(.machine.kernel))"' "$json")"
set ylabel "ratio to the kernel bridge (log scale)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.015625:16]
set ytics ("1/64" 0.015625, "1/32" 0.03125, "1/16" 0.0625, "1/8" 0.125, "1/4" 0.25, "1/2" 0.5, "1" 1, "2" 2, "4" 4, "8" 8, "16" 16)
set grid ytics
set key top left horizontal
set xtics scale 0 rotate by -20
set bmargin 6
set rmargin 8
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lw 1.5
$plot
EOF
}
