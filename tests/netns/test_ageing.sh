#!/bin/bash
#
# test_ageing.sh - ageing of learned entries: set ageing_time, an entry
# goes after that long without frames and not before, traffic keeps it,
# static entries never age, the age field grows, ageing_time 0 means no
# learning at all (Linux br_fdb_update(): "some users want to always
# flood").
#
#        h0            h1            h2          host namespaces
#       tsXt0         tsXt1         tsXt2        taps, moved in
#         |             |             |
#         +------- tapswitch ---------+          (root namespace)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

hosts_setup 3
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]}

A=02:00:00:00:04:0a
B=02:00:00:00:04:0b
C=02:00:00:00:04:0c
D=02:00:00:00:04:0d
S=02:00:00:00:04:05
BC=ff:ff:ff:ff:ff:ff

now_ms() { echo $(($(date +%s%N) / 1000000)); }

fdb_age()
{
	# shellcheck disable=SC2016 # jq variables, not shell ones
	ctlj fdb show | ts_jq "fdb_age $1" -r --arg m "$1" \
		'map(select(.mac == $m) | .age | tostring) | join(" ")'
}

# wait_gone MAC SECONDS: poll until MAC leaves the table; fails after
# SECONDS.
wait_gone()
{
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		if [ -z "$(fdb_port "$1")" ]; then
			return 0
		fi
		sleep 0.05
	done
	fail "$1 still in the table after $2 s: $(ctlj fdb show)"
}

assert_eq "default ageing_time" 300 "$(sw_field ageing_time)"

# --- an entry ages out after ageing_time, not before --------------------
ctl set ageing_time 2
assert_eq "ageing_time" 2 "$(sw_field ageing_time)"
ctl fdb add $S dev "$T2" static
aged0=$(sw_stat aged)
xfer 0 "$(frame $BC $A 1)" 1 2
learned_at=$(now_ms)
assert_eq "fdb: $A just learned" "$T0" "$(fdb_port $A)"
sleep 1
assert_eq "fdb: $A one second later" "$T0" "$(fdb_port $A)"
xfer 1 "$(frame $A $B 2)" 0
wait_gone $A 5
elapsed=$(($(now_ms) - learned_at))
# The kernel's gc may run a little late, but never early.
assert_ge "ms before $A aged out (ageing_time 2)" 1900 "$elapsed"
[ "$elapsed" -le 4000 ] ||
	fail "$A aged out only after $elapsed ms (ageing_time 2)"
assert_ge "stats.aged" $((aged0 + 1)) "$(sw_stat aged)"
xfer 1 "$(frame $A $B 3)" 0 2
ok "learned entry ages out after ageing_time ($elapsed ms); frames to it flood"

# --- traffic refreshes an entry -----------------------------------------
xfer 1 "$(frame $BC $B 10)" 0 2
for i in 1 2 3 4 5 6; do
	sleep 0.4
	xfer 1 "$(frame $C $B $((10 + i)))" 0 2
done
assert_eq "fdb: $B refreshed every 0.5 s for 3 s" "$T1" "$(fdb_port $B)"
age=$(fdb_age $B)
[ "${age%.*}" -le 1 ] 2>/dev/null || fail "age of a refreshed entry: $age"
wait_gone $B 5
ok "traffic keeps an entry; it ages out once traffic stops"

assert_eq "fdb: static $S after ageing" "$T2" "$(fdb_port $S)"
xfer 0 "$(frame $S $A 20)" 2
ok "static entries never age"

# --- the age field -------------------------------------------------------
ctl set ageing_time 300
xfer 0 "$(frame $BC $D 30)" 1 2
sleep 2.2
age=$(fdb_age $D)
case $age in
2 | 2.* | 3 | 3.*) ;;
*) fail "age of $D 2.2 s after it was learned: \"$age\" (expected 2..3)" ;;
esac
ok "age counts seconds since the last frame ($age)"

# --- ageing_time 0: no learning, everything floods -------------------------
xfer 1 "$(frame $BC $C 40)" 0 2
assert_eq "fdb: $C before ageing_time 0" "$T1" "$(fdb_port $C)"
ctl set ageing_time 0
assert_eq "ageing_time" 0 "$(sw_field ageing_time)"
wait_gone $C 3
wait_gone $D 3
learned0=$(sw_stat learned)
xfer 0 "$(frame $BC $A 41)" 1 2
xfer 1 "$(frame $A $C 42)" 0 2
xfer 0 "$(frame $C $A 43)" 1 2
xfer 1 "$(frame $A $C 44)" 0 2
assert_eq "fdb with ageing_time 0" "$S" "$(fdb_macs)"
assert_eq "stats.learned with ageing_time 0" "$learned0" "$(sw_stat learned)"
ok "ageing_time 0: learned entries go, nothing is learned, all floods"

ctl set ageing_time 300
xfer 0 "$(frame $BC $A 45)" 1 2
xfer 1 "$(frame $A $C 46)" 0
ok "ageing_time 300 again: learning again"
daemon_alive || fail "tapswitch died"
ts_done
