# shellcheck shell=bash disable=SC2034
# (SC2034: the topology variables are read by run.sh and measure.sh.)
#
# backends.sh - the switches the harness compares, each built into the
# same topology:
#
#      HOST_NS[0]              HOST_NS[1]          (one namespace per host,
#      HOST_IF[0] 198.18.0.1   HOST_IF[1] 198.18.0.2  one port each)
#          |                       |
#   +------+-----------------------+------+
#   |  the switch, in namespace SW_NS     |
#   +-------------------------------------+
#
# For each backend B (names with "-" spelt "_" here):
#
#   be_B_check     return 1, after printing why, when B cannot run here
#   be_B_up        build the topology; set SW_NS, HOST_NS, HOST_IF,
#                  SW_PIDS (the switch processes whose CPU time is
#                  counted; empty for the kernel bridge), PORT_KIND
#   be_B_mac_prep  before the MAC-scale runs: lift table limits
#   be_B_learned   print the number of learned entries, if B can tell
#   be_B_down      stop the switch by PID, delete the namespaces
#
# Every switch runs inside SW_NS (ip netns exec); its ports are made there
# and the host ends moved into the host namespaces.  Nothing is made or
# configured in the root namespace.

N_HOSTS=2
SW_NS=
HOST_NS=()
HOST_IF=()
HOST_ADDR=()
SW_PIDS=()
SW_COMMS=()
PORT_KIND=

# topo_names SHORT: namespace and interface names for one backend.
topo_names()
{
	local short=$1 i
	SW_NS=$BENCH_ID-$short-sw
	HOST_NS=()
	HOST_IF=()
	HOST_ADDR=()
	SW_PIDS=()
	SW_COMMS=()
	for ((i = 0; i < N_HOSTS; i++)); do
		HOST_NS+=("$BENCH_ID-$short-h$i")
		HOST_ADDR+=("198.18.0.$((i + 1))")
	done
}

sw_track()
{
	SW_PIDS+=("$1")
	SW_COMMS+=("$2")
	proc_track "$1" "$2"
}

# sw_alive: every switch process still running?
sw_alive()
{
	local i
	for ((i = 0; i < ${#SW_PIDS[@]}; i++)); do
		proc_is "${SW_PIDS[i]}" "${SW_COMMS[i]}" || return 1
	done
}

# topo_down: stop the switch processes, delete the namespaces.
topo_down()
{
	proc_stop_all
	ns_del_all
	SW_PIDS=()
	SW_COMMS=()
}

# hosts_up: addresses on the host ends, up, and a ping through (5 s).
hosts_up()
{
	local i
	for ((i = 0; i < N_HOSTS; i++)); do
		ip -n "${HOST_NS[i]}" addr add "${HOST_ADDR[i]}/24" \
			dev "${HOST_IF[i]}" || return 1
		ip -n "${HOST_NS[i]}" link set "${HOST_IF[i]}" up || return 1
	done
	wait_until 5 ip netns exec "${HOST_NS[0]}" \
		ping -n -c 1 -W 1 "${HOST_ADDR[1]}"
}

# move_to_hosts DEV...: move port device i (made in SW_NS) into host i.
move_to_hosts()
{
	local i=0 dev
	for dev in "$@"; do
		ip -n "$SW_NS" link set "$dev" netns "${HOST_NS[i]}" || return 1
		i=$((i + 1))
	done
}

# pidfile_pid FILE SECS: wait for a daemon's pidfile, print the PID.
pidfile_pid()
{
	local pid
	wait_until "$2" test -s "$1" || return 1
	pid=$(head -n 1 "$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	printf '%s\n' "$pid"
}

# ------------------------------------------------------- kernel bridge

be_kbridge_check() { return 0; }

be_kbridge_up()
{
	local i nf
	topo_names kb
	PORT_KIND=veth
	ns_add "$SW_NS" "${HOST_NS[@]}" || return 1
	ip -n "$SW_NS" link add br0 type bridge stp_state 0 \
		mcast_snooping 0 || return 1
	ip -n "$SW_NS" link set br0 up
	for ((i = 0; i < N_HOSTS; i++)); do
		HOST_IF+=("${BENCH_ID}v$i")
		ip -n "$SW_NS" link add "${BENCH_ID}s$i" type veth \
			peer name "${BENCH_ID}v$i" netns "${HOST_NS[i]}" ||
			return 1
		ip -n "$SW_NS" link set "${BENCH_ID}s$i" master br0 up ||
			return 1
	done
	# br_netfilter's switch is read, never changed: the bridge runs with
	# whatever this machine has (per namespace on recent kernels).
	nf=$(ip netns exec "$SW_NS" cat \
		/proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null) ||
		nf="absent (br_netfilter not loaded)"
	KBRIDGE_NF=$nf
	hosts_up
}

be_kbridge_mac_prep() { :; }

# be_B_learned K: K is the number of source MACs of the run.  Listing a
# million bridge entries takes half a minute: the bridge is asked only up
# to 64k (it learns in the sender's context, so it learns all it is sent).
be_kbridge_learned()
{
	[ "$1" -le 65536 ] || return 1
	bounded 30 "$BENCH_TMP/fdb.txt" bridge -n "$SW_NS" fdb show br br0 ||
		return 1
	grep -vc permanent "$BENCH_TMP/fdb.txt"
}

be_kbridge_down() { topo_down; }

# ------------------------------------------------------------ tapswitch

TS_SOCK=

ts_ctl() { "$TAPSWITCHCTL" --ctl "$TS_SOCK" "$@"; }

be_tapswitch_check()
{
	local tool
	for tool in "$TAPSWITCH" "$TAPSWITCHCTL"; do
		[ -x "$tool" ] || {
			echo "$tool not built"
			return 1
		}
	done
}

be_tapswitch_busy_check()
{
	[ -n "${TAPSWITCH_BUSY_ARGS:-}" ] || {
		echo "TAPSWITCH_BUSY_ARGS is not set"
		return 1
	}
	be_tapswitch_check
}

# tapswitch_up SHORT ARGS [KIND]: on taps (KIND tap, the default) the
# daemon in SW_NS makes the taps and each is moved into its host (the
# daemon holds the fd, so it keeps forwarding); on a netdev kind
# (afpacket, afxdp) the veth pairs are made exactly as for the kernel bridge and
# the daemon attaches their switch-side ends.
tapswitch_up()
{
	local short=$1 args=$2 kind=${3:-tap} i pid ports=()
	local -a extra
	topo_names "$short"
	PORT_KIND=$kind
	ns_add "$SW_NS" "${HOST_NS[@]}" || return 1
	for ((i = 0; i < N_HOSTS; i++)); do
		if [ "$kind" = tap ]; then
			HOST_IF+=("${BENCH_ID}t$i")
			ports+=(--port "${BENCH_ID}t$i")
			continue
		fi
		HOST_IF+=("${BENCH_ID}v$i")
		ip -n "$SW_NS" link add "${BENCH_ID}s$i" type veth \
			peer name "${BENCH_ID}v$i" netns "${HOST_NS[i]}" ||
			return 1
		ports+=(--port "${BENCH_ID}s$i,type=$kind")
	done
	TS_SOCK=$BENCH_TMP/$short.sock
	read -r -a extra <<<"$args"
	printf '+ tapswitch %s %s\n' "${ports[*]}" "$args" >>"$BENCH_LOG"
	ip netns exec "$SW_NS" "$TAPSWITCH" --ctl "$TS_SOCK" "${ports[@]}" \
		"${extra[@]}" >>"$BENCH_TMP/$short.log" 2>&1 &
	pid=$!
	sw_track "$pid" tapswitch
	for ((i = 0; i < 50; i++)); do
		ts_ctl show >/dev/null 2>&1 && break
		proc_is "$pid" || {
			echo "tapswitch exited at start-up: $(head -n 1 "$BENCH_TMP/$short.log")"
			return 1
		}
		sleep 0.1
	done
	ts_ctl show >/dev/null 2>&1 || {
		echo "tapswitch does not answer after 5 s"
		return 1
	}
	if [ "$kind" = tap ]; then
		move_to_hosts "${HOST_IF[@]}" || return 1
	fi
	if [ "$kind" = afxdp ]; then
		# An XDP frame has no offload state: the hosts complete their
		# own checksums (and so send no super-frames), as Open
		# vSwitch asks of a veth peer for AF_XDP.
		for ((i = 0; i < N_HOSTS; i++)); do
			ip netns exec "${HOST_NS[i]}" ethtool -K "${HOST_IF[i]}" \
				tx off >/dev/null || return 1
		done
	fi
	hosts_up || return 1
	wait_until 5 ts_all_forwarding || {
		echo "tapswitch ports not forwarding after 5 s"
		return 1
	}
	ts_ctl fdb flush >/dev/null
}

ts_all_forwarding()
{
	ts_ctl -j port show |
		jq -e 'length > 0 and all(.[]; .state == "forwarding")'
}

be_tapswitch_up() { tapswitch_up ts "${TAPSWITCH_ARGS:-}"; }
be_tapswitch_busy_up() { tapswitch_up tb "${TAPSWITCH_BUSY_ARGS:-}"; }
be_tapswitch_afpacket_check() { be_tapswitch_check; }
be_tapswitch_afpacket_up()
{
	tapswitch_up ta "${TAPSWITCH_ARGS:-}" afpacket
}
be_tapswitch_afxdp_check() { be_tapswitch_check; }
be_tapswitch_afxdp_up() { tapswitch_up tx "${TAPSWITCH_ARGS:-}" afxdp; }
be_tapswitch_afpacket_busy_check() { be_tapswitch_busy_check; }
be_tapswitch_afpacket_busy_up()
{
	tapswitch_up tab "${TAPSWITCH_BUSY_ARGS:-}" afpacket
}

be_tapswitch_mac_prep() { ts_ctl set max_learned 0 >/dev/null; }
be_tapswitch_busy_mac_prep() { be_tapswitch_mac_prep; }
be_tapswitch_afpacket_mac_prep() { be_tapswitch_mac_prep; }
be_tapswitch_afpacket_busy_mac_prep() { be_tapswitch_mac_prep; }
be_tapswitch_afxdp_mac_prep() { be_tapswitch_mac_prep; }

be_tapswitch_learned()
{
	ts_ctl -j -s show | jq -r '.stats.fdb_learned'
}
be_tapswitch_busy_learned() { be_tapswitch_learned; }
be_tapswitch_afpacket_learned() { be_tapswitch_learned; }
be_tapswitch_afpacket_busy_learned() { be_tapswitch_learned; }
be_tapswitch_afxdp_learned() { be_tapswitch_learned; }

be_tapswitch_down() { topo_down; }
be_tapswitch_busy_down() { topo_down; }
be_tapswitch_afpacket_down() { topo_down; }
be_tapswitch_afpacket_busy_down() { topo_down; }
be_tapswitch_afxdp_down() { topo_down; }

# --------------------------------------------------------- Open vSwitch

OVS_DIR=
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}

ovs_check()
{
	local tool
	for tool in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "no $tool (Debian package openvswitch-switch not installed)"
			return 1
		}
	done
	[ -r "$OVS_SCHEMA" ] || {
		echo "no $OVS_SCHEMA"
		return 1
	}
}

be_ovs_check() { ovs_check; }
be_ovs_tso_check() { ovs_check; }

# Every OVS command gets the private directories, in the environment and
# explicitly, so that nothing touches /var/run/openvswitch or /etc.
# (An array, not a function: timeout(1) runs only programs.)
ovs_env_set()
{
	OVS_ENV=(env "OVS_RUNDIR=$OVS_DIR" "OVS_LOGDIR=$OVS_DIR"
		"OVS_DBDIR=$OVS_DIR" "OVS_SYSCONFDIR=$OVS_DIR"
		OVS_PKGDATADIR=/usr/share/openvswitch)
}

# ovs_vsctl ARGS: bounded, in the switch's namespace.
ovs_vsctl()
{
	bounded 20 - "${OVS_ENV[@]}" ip netns exec "$SW_NS" ovs-vsctl \
		--db="unix:$OVS_DIR/db.sock" --timeout=10 "$@"
}

# ovs_appctl ARGS: output on stdout.
ovs_appctl()
{
	bounded 20 "$BENCH_TMP/appctl.out" "${OVS_ENV[@]}" ovs-appctl \
		-t "$OVS_DIR/ovs-vswitchd.ctl" --timeout=10 "$@" &&
		cat "$BENCH_TMP/appctl.out"
}

# ovs_up SHORT TSO: ovsdb-server and ovs-vswitchd with a private database,
# a netdev (userspace) bridge, and OVS_PORTS (tap, the default, or veth)
# ports.  userspace-tso-enable is read once at start, so it is set in the
# database before ovs-vswitchd starts.
ovs_up()
{
	local short=$1 tso=$2 i pid kind=${OVS_PORTS:-tap}
	topo_names "$short"
	PORT_KIND=$kind
	case $kind in
	tap | veth) ;;
	*)
		echo "OVS_PORTS=$kind: tap or veth"
		return 1
		;;
	esac
	ns_add "$SW_NS" "${HOST_NS[@]}" || return 1
	OVS_DIR=$BENCH_TMP/$short
	mkdir -p "$OVS_DIR"
	ovs_env_set
	bounded 20 - "${OVS_ENV[@]}" ovsdb-tool create "$OVS_DIR/conf.db" \
		"$OVS_SCHEMA" || {
		echo "ovsdb-tool create failed: $(log_tail 2)"
		return 1
	}
	bounded 20 - "${OVS_ENV[@]}" ip netns exec "$SW_NS" ovsdb-server \
		"$OVS_DIR/conf.db" --remote="punix:$OVS_DIR/db.sock" \
		--pidfile="$OVS_DIR/ovsdb-server.pid" \
		--unixctl="$OVS_DIR/ovsdb-server.ctl" \
		--log-file="$OVS_DIR/ovsdb-server.log" --detach --no-chdir ||
		{
			echo "ovsdb-server did not start: $(log_tail 2)"
			return 1
		}
	pid=$(pidfile_pid "$OVS_DIR/ovsdb-server.pid" 5) || {
		echo "ovsdb-server wrote no pidfile"
		return 1
	}
	proc_track "$pid" ovsdb-server
	ovs_vsctl --no-wait init || {
		echo "ovs-vsctl init failed: $(log_tail 2)"
		return 1
	}
	if [ "$tso" = 1 ]; then
		ovs_vsctl --no-wait set Open_vSwitch . \
			other_config:userspace-tso-enable=true || return 1
	fi
	# --disable-system: no kernel datapath (nor its module) is touched;
	# --disable-system-route: the routing table is not read.
	bounded 30 - "${OVS_ENV[@]}" ip netns exec "$SW_NS" ovs-vswitchd \
		"unix:$OVS_DIR/db.sock" --pidfile="$OVS_DIR/ovs-vswitchd.pid" \
		--unixctl="$OVS_DIR/ovs-vswitchd.ctl" \
		--log-file="$OVS_DIR/ovs-vswitchd.log" --detach --no-chdir \
		--disable-system --disable-system-route || {
		echo "ovs-vswitchd did not start: $(log_tail 2)"
		return 1
	}
	pid=$(pidfile_pid "$OVS_DIR/ovs-vswitchd.pid" 5) || {
		echo "ovs-vswitchd wrote no pidfile"
		return 1
	}
	sw_track "$pid" ovs-vswitchd
	ovs_vsctl add-br br0 -- set Bridge br0 \
		datapath_type=netdev || {
		echo "ovs-vsctl add-br failed: $(log_tail 2)"
		return 1
	}
	for ((i = 0; i < N_HOSTS; i++)); do
		if [ "$kind" = tap ]; then
			HOST_IF+=("${BENCH_ID}t$i")
			ovs_vsctl add-port br0 "${BENCH_ID}t$i" \
				-- set Interface "${BENCH_ID}t$i" type=tap ||
				return 1
		else
			HOST_IF+=("${BENCH_ID}v$i")
			ip -n "$SW_NS" link add "${BENCH_ID}s$i" type veth \
				peer name "${BENCH_ID}v$i" netns "${HOST_NS[i]}" ||
				return 1
			ip -n "$SW_NS" link set "${BENCH_ID}s$i" up || return 1
			ovs_vsctl add-port br0 "${BENCH_ID}s$i" ||
				return 1
		fi
	done
	if [ "$kind" = tap ]; then
		wait_until 5 ip -n "$SW_NS" link show dev "${HOST_IF[N_HOSTS - 1]}" ||
			return 1
		move_to_hosts "${HOST_IF[@]}" || return 1
	fi
	hosts_up || {
		echo "no ping through ovs-vswitchd after 5 s"
		return 1
	}
}

be_ovs_up() { ovs_up ovs 0; }
be_ovs_tso_up() { ovs_up ot 1; }

# OVS's MAC table holds 8192 entries by default; the MAC-scale runs need
# room for a million (set on both variants, and said in the notes).
OVS_MAC_TABLE_SIZE=${OVS_MAC_TABLE_SIZE:-2000000}
ovs_mac_prep()
{
	ovs_vsctl set Bridge br0 \
		"other_config:mac-table-size=$OVS_MAC_TABLE_SIZE"
}
be_ovs_mac_prep() { ovs_mac_prep; }
be_ovs_tso_mac_prep() { ovs_mac_prep; }

# "Current/maximum MAC entries in the table: 1026/2000000"
ovs_learned()
{
	ovs_appctl fdb/stats-show br0 |
		sed -n 's|.*Current/maximum MAC entries in the table: *\([0-9]*\)/.*|\1|p'
}
be_ovs_learned() { ovs_learned; }
be_ovs_tso_learned() { ovs_learned; }

be_ovs_down() { topo_down; }
be_ovs_tso_down() { topo_down; }

# ----------------------------------------------------------------- VDE

# VDE's MAC hash has few buckets by default and long chains past a few
# thousand entries; the MAC-scale runs give it a million (VDE_ARGS).
VDE_ARGS=${VDE_ARGS:---hashsize 1048576}

be_vde_check()
{
	command -v vde_switch >/dev/null 2>&1 || {
		echo "no vde_switch (Debian package vde2 not installed)"
		return 1
	}
}

be_vde_up()
{
	local i pid dir taps=()
	local -a extra
	topo_names vde
	PORT_KIND=tap
	ns_add "$SW_NS" "${HOST_NS[@]}" || return 1
	dir=$BENCH_TMP/vde
	mkdir -p "$dir"
	: >"$dir/rc"
	for ((i = 0; i < N_HOSTS; i++)); do
		HOST_IF+=("${BENCH_ID}t$i")
		taps+=(-t "${BENCH_ID}t$i")
	done
	read -r -a extra <<<"$VDE_ARGS"
	# -f: an empty rc file instead of /etc/vde2/vde_switch.rc or ~/.vderc.
	bounded 20 - ip netns exec "$SW_NS" vde_switch -f "$dir/rc" \
		"${taps[@]}" -s "$dir/sock" -M "$dir/mgmt" -p "$dir/pid" \
		"${extra[@]}" -d || {
		echo "vde_switch did not start: $(log_tail 2)"
		return 1
	}
	pid=$(pidfile_pid "$dir/pid" 5) || {
		echo "vde_switch wrote no pidfile"
		return 1
	}
	sw_track "$pid" vde_switch
	wait_until 5 ip -n "$SW_NS" link show dev "${HOST_IF[N_HOSTS - 1]}" ||
		return 1
	move_to_hosts "${HOST_IF[@]}" || return 1
	hosts_up || {
		echo "no ping through vde_switch after 5 s"
		return 1
	}
}

be_vde_mac_prep() { :; }
be_vde_learned() { return 1; }
be_vde_down() { topo_down; }
