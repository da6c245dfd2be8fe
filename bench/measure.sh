# shellcheck shell=bash
#
# measure.sh - the figures, measured on the topology backends.sh built
# (host 0 sends, host 1 receives):
#
#   m_tcp STREAMS KEY   iperf3 -P STREAMS, KEY_gbps (median of REPEAT)
#   m_ping              ping RTT: ping_avg_us, ping_p99_us
#   m_pps LEN KEY       LEN-byte frames delivered per second: KEY_kpps,
#                       and the generator's and the switch's side of it
#   m_mac K KEY         64-byte frames from K learned source MACs: KEY_kpps
#
# With BENCH_PERF=1, a userspace switch's tcp1 and pps64 get one more run,
# not counted, under `perf record -g` of the switch's processes: its
# report is profile-BACKEND-KEY.txt beside the results.
#
# Durations and repetitions come from run.sh: TCP_SECS, PPS_SECS,
# PPS_WARMUP, REPEAT, PING_COUNT, LEARN_MAX_SECS.

IPERF_PORT=5201

# Frame-rate runs put the generator on PKTGEN_CPU and every userspace
# switch process (all its threads) on SWITCH_CPUS, the other CPUs, so that
# neither has to share a core with the other, whichever the switch.  TCP
# and ping run with the switch free to use every CPU, as deployed.  A
# tapswitch started with its own --pin-cpus is left as it pinned itself.
switch_affinity()
{
	local cpus=$1 pid
	[ -n "$SWITCH_CPUS" ] || return 0
	[[ $BACKEND == tapswitch* ]] && [[ " ${TAPSWITCH_ARGS:-} " == *" --pin-cpus"* ]] &&
		return 0
	for pid in "${SW_PIDS[@]}"; do
		taskset -a -p -c "$cpus" "$pid" >>"$BENCH_LOG" 2>&1 || return 1
	done
}
switch_pin() { switch_affinity "$SWITCH_CPUS"; }
switch_unpin() { switch_affinity "0-$(($(nproc) - 1))"; }

# iperf_server_start: one iperf3 server in host 1 for the backend's runs,
# stopped by PID with the switch (topo_down).
iperf_server_start()
{
	local pid
	ip netns exec "${HOST_NS[1]}" iperf3 -s -B "${HOST_ADDR[1]}" \
		-p "$IPERF_PORT" >>"$BENCH_TMP/iperf-server.log" 2>&1 &
	pid=$!
	proc_track "$pid" iperf3
	IPERF_SERVER_PID=$pid
	wait_until 5 iperf_listening
}

iperf_listening()
{
	ip netns exec "${HOST_NS[1]}" ss -Hltn "sport = :$IPERF_PORT" |
		grep -q .
}

# m_tcp STREAMS KEY
m_tcp()
{
	local streams=$1 key=$2 run out bps vals=() retr=()
	switch_unpin
	if [ -z "${IPERF_SERVER_PID:-}" ] || ! proc_is "$IPERF_SERVER_PID" iperf3; then
		iperf_server_start || {
			note "$BACKEND" "$key: iperf3 server did not start"
			return 1
		}
	fi
	out=$BENCH_TMP/iperf.json
	for ((run = 0; run < REPEAT; run++)); do
		if ! bounded $((TCP_SECS + 20)) "$out" ip netns exec \
			"${HOST_NS[0]}" iperf3 -c "${HOST_ADDR[1]}" \
			-p "$IPERF_PORT" -t "$TCP_SECS" -P "$streams" -J \
			--connect-timeout 3000; then
			note "$BACKEND" "$key: iperf3 failed: $(jq -r '.error // empty' "$out" 2>/dev/null | head -c 200)"
			continue
		fi
		bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$out")
		if [ -z "$bps" ]; then
			note "$BACKEND" "$key: iperf3: $(jq -r '.error // "no result"' "$out" 2>/dev/null | head -c 200)"
			continue
		fi
		vals+=("$bps")
		retr+=("$(jq -r '.end.sum_sent.retransmits // 0' "$out")")
	done
	[ "${#vals[@]}" -gt 0 ] || return 1
	bps=$(printf '%s\n' "${vals[@]}" | median)
	result "$BACKEND" "${key}_gbps" "$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e9 }')"
	result "$BACKEND" "${key}_runs_gbps" "$(printf '%s\n' "${vals[@]}" |
		awk '{ printf "%s%.3f", (NR > 1 ? "," : ""), $1 / 1e9 }')"
	result "$BACKEND" "${key}_retransmits" "$(printf '%s\n' "${retr[@]}" | median)"
	say "    $key: $(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') Gbit/s (runs: ${#vals[@]})"
	[ "$key" = tcp1 ] && perf_during "$key" bounded $((PERF_SECS + 20)) \
		"$BENCH_TMP/iperf-perf.json" ip netns exec "${HOST_NS[0]}" \
		iperf3 -c "${HOST_ADDR[1]}" -p "$IPERF_PORT" -t $((PERF_SECS + 1)) \
		-J --connect-timeout 3000
	return 0
}

# perf_during KEY CMD...: with BENCH_PERF=1, run CMD (which must keep
# the switch busy for PERF_SECS) while perf samples every process of the
# switch; keep the flat profile and the inclusive one in
# $BENCH_TMP/profile-$BACKEND-$KEY.txt.
PERF_SECS=3
perf_during()
{
	local key=$1 data=$BENCH_TMP/perf.data rep pids ppid
	shift
	[ "${BENCH_PERF:-0}" = 1 ] && [ "${#SW_PIDS[@]}" -gt 0 ] || return 0
	if ! command -v perf >/dev/null 2>&1; then
		note "$BACKEND" "$key: no perf here, not profiled"
		return 0
	fi
	pids=$(IFS=,; echo "${SW_PIDS[*]}")
	rm -f "$data"
	timeout $((PERF_SECS + 15)) perf record -q -g -p "$pids" -o "$data" \
		-- sleep "$PERF_SECS" >>"$BENCH_LOG" 2>&1 &
	ppid=$!
	"$@" >>"$BENCH_LOG" 2>&1
	wait "$ppid"
	[ -s "$data" ] || {
		note "$BACKEND" "$key: perf recorded nothing"
		return 0
	}
	rep=$BENCH_TMP/profile-$BACKEND-$key.txt
	{
		echo "# $BACKEND, $key: perf record -g -p <every switch process> for ${PERF_SECS} s"
		echo "# (an extra run, not one of the measured ones)"
		echo "#"
		echo "# Self time, by DSO and symbol (perf report --no-children --sort dso,symbol -g none --percent-limit 0.5):"
		perf report -i "$data" --no-children --sort dso,symbol -g none \
			--percent-limit 0.5 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$'
		echo "#"
		echo "# Inclusive time, by symbol (perf report --children --sort symbol -g none --percent-limit 5):"
		perf report -i "$data" --children --sort symbol -g none \
			--percent-limit 5 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$'
	} >"$rep"
	rm -f "$data"
}

# m_ping: PING_COUNT echo requests 2 ms apart; avg and p99 of the
# per-reply times ping prints.
m_ping()
{
	local out=$BENCH_TMP/ping.txt stats
	switch_unpin
	# Warm up: neighbour entries, the switch's table, caches.
	bounded 10 - ip netns exec "${HOST_NS[0]}" ping -n -q -c 5 -i 0.01 \
		-W 1 "${HOST_ADDR[1]}"
	bounded $((PING_COUNT / 100 + 20)) "$out" ip netns exec \
		"${HOST_NS[0]}" ping -n -c "$PING_COUNT" -i 0.002 -W 1 \
		"${HOST_ADDR[1]}"
	stats=$(sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' "$out" | sort -g |
		awk '{ v[NR] = $1 * 1000; s += $1 * 1000 }
		END {
			if (!NR) exit 1
			i = int(NR * 0.99); if (i < NR * 0.99) i++
			printf "%.1f %.1f %d\n", s / NR, v[i], NR
		}') || {
		note "$BACKEND" "ping: no reply"
		return 1
	}
	read -r avg p99 n <<<"$stats"
	result "$BACKEND" ping_avg_us "$avg"
	result "$BACKEND" ping_p99_us "$p99"
	result "$BACKEND" ping_replies "$n/$PING_COUNT"
	say "    ping: avg $avg us, p99 $p99 us ($n/$PING_COUNT replies)"
}

# rx_mac: host 1's MAC, the destination of the generated frames.
rx_mac()
{
	ip -n "${HOST_NS[1]}" -j link show dev "${HOST_IF[1]}" |
		jq -r '.[0].address'
}

# learn_receiver: host 1 sends three broadcasts from its own MAC, so the
# switch knows where it is and the measured frames go as known unicast.
learn_receiver()
{
	bounded 10 - ip netns exec "${HOST_NS[1]}" "$PKTGEN" \
		-i "${HOST_IF[1]}" -s self -n 3 -t 1
}

# pktgen_run OUT ARGS...: pktgen on host 0 towards host 1, counting at
# host 1's interface and the switch processes' CPU time.
pktgen_run()
{
	local out=$1 pid cpu=() pids=() secs
	shift
	for pid in "${SW_PIDS[@]}"; do
		pids+=(-p "$pid")
	done
	[ -n "$PKTGEN_CPU" ] && cpu=(-C "$PKTGEN_CPU")
	secs=$((LEARN_MAX_SECS + ${PPS_SECS%.*} + 21))
	bounded "$secs" "$out" ip netns exec "${HOST_NS[0]}" "$PKTGEN" \
		-i "${HOST_IF[0]}" -d "$DST_MAC" \
		-R "${HOST_NS[1]}:${HOST_IF[1]}" "${pids[@]}" "${cpu[@]}" "$@"
}

# pps_measure KEY ARGS...: REPEAT windows; the figures of the median run
# (by frames delivered per second).
pps_measure()
{
	local key=$1 run all=$BENCH_TMP/pps-runs.json pick
	shift
	: >"$all"
	for ((run = 0; run < REPEAT; run++)); do
		if pktgen_run "$BENCH_TMP/pps.json" -t "$PPS_SECS" \
			-w "$PPS_WARMUP" "$@"; then
			cat "$BENCH_TMP/pps.json" >>"$all"
		else
			note "$BACKEND" "$key: pktgen failed: $(log_tail 1)"
		fi
		sw_alive || {
			note "$BACKEND" "$key: the switch died"
			return 1
		}
	done
	pick=$(jq -sc 'sort_by(.rx_pps) | if length == 0 then empty
		else .[(length - 1) / 2 | floor] end' "$all")
	[ -n "$pick" ] || return 1
	result "$BACKEND" "${key}_kpps" "$(jq -r '.rx_pps / 1000 | . * 10 | round / 10' <<<"$pick")"
	result "$BACKEND" "${key}_runs_kpps" "$(jq -sr 'map(.rx_pps / 1000 | round) | join(",")' "$all")"
	result "$BACKEND" "${key}_sent_kpps" "$(jq -r '.tx_pps / 1000 | . * 10 | round / 10' <<<"$pick")"
	result "$BACKEND" "${key}_offered_kpps" "$(jq -r '(.sent + .dev_tx_dropped) / .window_s / 1000 | . * 10 | round / 10' <<<"$pick")"
	if jq -e 'has("cpu_ns_per_frame")' <<<"$pick" >/dev/null; then
		result "$BACKEND" "${key}_cpu_ns" "$(jq -r '.cpu_ns_per_frame | round' <<<"$pick")"
		result "$BACKEND" "${key}_cpu_util" "$(jq -r '.cpu_util' <<<"$pick")"
	fi
	say "    $key: $(jq -r '"\(.rx_pps / 1000 | round) kpps delivered, generator \(.tx_pps / 1000 | round) kpps sent" +
		(if has("cpu_ns_per_frame") then ", switch CPU \(.cpu_ns_per_frame | round) ns/frame" else "" end)' <<<"$pick")"
}

# m_pps LEN KEY
m_pps()
{
	switch_pin || note "$BACKEND" "$2: could not pin the switch to CPUs $SWITCH_CPUS"
	DST_MAC=$(rx_mac)
	learn_receiver || {
		note "$BACKEND" "$2: the receiver could not send"
		return 1
	}
	pps_measure "$2" -l "$1" || return 1
	[ "$2" = pps64 ] && perf_during "$2" pktgen_run \
		"$BENCH_TMP/pps-perf.json" -t $((PERF_SECS + 1)) -w 0.2 -l "$1"
	return 0
}

# m_mac K KEY: a learning pass (each of the K source MACs once, bounded by
# LEARN_MAX_SECS), then the measured windows cycling through the same K.
m_mac()
{
	local k=$1 key=$2 out=$BENCH_TMP/learn.json sent secs learned
	switch_pin || note "$BACKEND" "$key: could not pin the switch to CPUs $SWITCH_CPUS"
	DST_MAC=$(rx_mac)
	"be_${BACKEND//-/_}_mac_prep" || note "$BACKEND" "$key: could not lift the table limit"
	learn_receiver || {
		note "$BACKEND" "$key: the receiver could not send"
		return 1
	}
	local pace=()
	[ -n "${BENCH_LEARN_PPS:-}" ] && pace=(-r "$BENCH_LEARN_PPS")
	if pktgen_run "$out" -k "$k" -n "$k" -t "$LEARN_MAX_SECS" "${pace[@]}"; then
		sent=$(jq -r '.sent' "$out")
		secs=$(jq -r '.window_s' "$out")
		result "$BACKEND" "${key}_learn_kpps" "$(jq -r '.sent / .window_s / 1000 | . * 10 | round / 10' "$out")"
		if [ "$sent" -lt "$k" ]; then
			note "$BACKEND" "$key: learning pass cut at ${LEARN_MAX_SECS} s: $sent of $k source MACs sent"
		fi
	else
		note "$BACKEND" "$key: learning pass failed: $(log_tail 1)"
	fi
	learned=$("be_${BACKEND//-/_}_learned" "$k" 2>/dev/null) || learned=
	[[ $learned =~ ^[0-9]+$ ]] || learned=
	[ -n "$learned" ] && result "$BACKEND" "${key}_learned" "$learned"
	say "    $key: learning pass ${sent:-?} frames in ${secs:-?} s${learned:+, $learned entries learned}"
	learn_receiver
	pps_measure "$key" -l 64 -k "$k"
}
