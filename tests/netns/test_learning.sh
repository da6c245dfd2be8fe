#!/bin/bash
#
# test_learning.sh - the forwarding table: learning, moves, learning off,
# static, sticky and dynamic entries added by hand, fdb del, fdb flush,
# the max_learned limit.  The reference is the Linux bridge with VLAN
# filtering off (br_fdb.c): a static entry that is not sticky moves when
# its MAC shows up on another port, a sticky one never does.
#
#     h0           h1           h2           h3        host namespaces
#    tsXt0        tsXt1        tsXt2        tsXt3      taps, moved in
#      |            |            |            |
#      +------------+--- tapswitch ---+-------+        (root namespace)
#
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ts_init
trap cleanup EXIT

hosts_setup 4
T0=${TAPS[0]} T1=${TAPS[1]} T2=${TAPS[2]} T3=${TAPS[3]}

A=02:00:00:00:01:0a
B=02:00:00:00:01:0b
C=02:00:00:00:01:0c
S=02:00:00:00:01:05	# static
T=02:00:00:00:01:07	# static sticky
X=02:00:00:00:01:08	# added as dynamic
BC=ff:ff:ff:ff:ff:ff

n_fdb() { ctlj fdb show | ts_jq n_fdb length; }

# --- learn and move ----------------------------------------------------
learned0=$(sw_stat learned)
moved0=$(sw_stat moved)
xfer 0 "$(frame $BC $A 1)" 1 2 3
assert_eq "fdb: $A" "$T0" "$(fdb_port $A)"
assert_eq "flags of a learned entry" "" "$(fdb_flags $A)"
assert_json "learned entry" "$(ctlj fdb show)" \
	"map(select(.mac == \"$A\")) | length == 1 and
	 (.[0] | (.flags == []) and (.age | type == \"number\") and
	  .age >= 0 and .age < 5 and (has(\"vlan\") | not))"
assert_eq "stats.learned" $((learned0 + 1)) "$(sw_stat learned)"
assert_eq "stats.fdb_entries" 1 "$(sw_stat fdb_entries)"
ok "a source is learned on its port"

xfer 1 "$(frame $BC $A 2)" 0 2 3
assert_eq "fdb: $A after it sent from h1" "$T1" "$(fdb_port $A)"
assert_eq "stats.moved" $((moved0 + 1)) "$(sw_stat moved)"
assert_eq "stats.fdb_entries after the move" 1 "$(sw_stat fdb_entries)"
xfer 2 "$(frame $A $C 3)" 1
ok "a MAC seen on another port moves there"

# --- learning off ------------------------------------------------------
ctl fdb flush
ctl port set "$T2" learning off
assert_eq "$T2 learning" false "$(port_field "$T2" learning)"
xfer 1 "$(frame $BC $A 4)" 0 2 3
xfer 2 "$(frame $BC $C 5)" 0 1 3
assert_eq "fdb: $C from a port with learning off" "" "$(fdb_port $C)"
xfer 0 "$(frame $C $A 6)" 1 2 3
xfer 1 "$(frame $C $A 7)" 0 2 3
xfer 2 "$(frame $BC $A 8)" 0 1 3
assert_eq "fdb: $A after it sent from a port with learning off" \
	"$T1" "$(fdb_port $A)"
ok "learning off: not learned, frames to it keep flooding, no move"

ctl port set "$T2" learning on
assert_eq "$T2 learning" true "$(port_field "$T2" learning)"
xfer 2 "$(frame $BC $C 9)" 0 1 3
assert_eq "fdb: $C with learning back on" "$T2" "$(fdb_port $C)"
xfer 0 "$(frame $C $A 10)" 2
ok "learning on again"

# --- static, sticky, dynamic entries by hand ---------------------------
ctl fdb add $S dev "$T3" static
assert_eq "fdb: static $S" "$T3" "$(fdb_port $S)"
assert_eq "flags of $S" static "$(fdb_flags $S)"
xfer 0 "$(frame $S $A 11)" 3
ok "static entry forwards"

ctl fdb add $T dev "$T3" static sticky
assert_eq "flags of $T" "static,sticky" "$(fdb_flags $T)"
xfer 1 "$(frame $BC $T 12)" 0 2 3
assert_eq "fdb: sticky $T after it sent from h1" "$T3" "$(fdb_port $T)"
xfer 0 "$(frame $T $A 13)" 3
ok "a sticky static entry does not move"

# Linux moves a static entry that is not sticky (br_fdb_update() only
# spares BR_FDB_STICKY and local entries), and it stays static.
xfer 1 "$(frame $BC $S 14)" 0 2 3
assert_eq "fdb: static (not sticky) $S after it sent from h1" \
	"$T1" "$(fdb_port $S)"
assert_eq "flags of $S after the move" static "$(fdb_flags $S)"
xfer 0 "$(frame $S $A 15)" 1
ok "a static entry that is not sticky moves, as in Linux"

ctl fdb add $X dev "$T2" dynamic
assert_eq "fdb: dynamic $X" "$T2" "$(fdb_port $X)"
assert_eq "flags of dynamic $X" "" "$(fdb_flags $X)"
xfer 0 "$(frame $X $A 16)" 2
ok "fdb add ... dynamic"

# --- del and flush -----------------------------------------------------
ctl fdb del $S dev "$T1"
assert_eq "fdb: $S after fdb del" "" "$(fdb_port $S)"
xfer 0 "$(frame $S $A 17)" 1 2 3
ctl fdb del $T dev "$T3"
assert_eq "fdb: $T after fdb del" "" "$(fdb_port $T)"
ok "fdb del"

# A learned on t0, C on t2, X (dynamic, by hand) on t2, S static on t0,
# T static on t2.
ctl fdb flush
xfer 0 "$(frame $BC $A 20)" 1 2 3
xfer 2 "$(frame $BC $C 21)" 0 1 3
ctl fdb add $X dev "$T2" dynamic
ctl fdb add $S dev "$T0" static
ctl fdb add $T dev "$T2" static
assert_eq "fdb before flushes" "$(sorted $A $C $S $T $X)" "$(fdb_macs)"
ctl fdb flush dev "$T0" dynamic
assert_eq "fdb after flush dev $T0 dynamic" "$(sorted $C $S $T $X)" "$(fdb_macs)"
assert_eq "fdb dev $T2" "$(sorted $C $T $X)" "$(fdb_macs dev "$T2")"
xfer 1 "$(frame $A $B 22)" 0 2 3
ctl fdb flush dev "$T2" static
assert_eq "fdb after flush dev $T2 static" "$(sorted $B $C $S $X)" "$(fdb_macs)"
ctl fdb flush dynamic
assert_eq "fdb after flush dynamic" "$S" "$(fdb_macs)"
xfer 2 "$(frame $BC $C 23)" 0 1 3
# No state word: every state, as `bridge fdb flush dev X` does.
ctl fdb flush dev "$T0"
assert_eq "fdb after flush dev $T0" "$C" "$(fdb_macs)"
ctl fdb flush
assert_eq "fdb after flush" "" "$(fdb_macs)"
assert_eq "stats.fdb_entries after flush" 0 "$(sw_stat fdb_entries)"
ok "fdb flush [dev] [static|dynamic]; without a state word, every state"

# --- max_learned -------------------------------------------------------
ctl set max_learned 3
assert_eq "max_learned" 3 "$(sw_field max_learned)"
misses0=$(sw_stat limit_misses)
for i in 1 2 3 4 5; do
	# Every frame is forwarded, learned or not.
	xfer 0 "$(frame $BC "02:00:00:00:02:0$i" "$((30 + i))")" 1 2 3
done
assert_eq "fdb with max_learned 3" \
	"02:00:00:00:02:01 02:00:00:00:02:02 02:00:00:00:02:03" "$(fdb_macs)"
assert_eq "stats.limit_misses" $((misses0 + 2)) "$(sw_stat limit_misses)"
ok "max_learned: 3 learned, 2 misses counted"

# A move is no new entry; entries added by hand are not learned ones.
xfer 1 "$(frame 02:00:00:00:02:05 02:00:00:00:02:02 36)" 0 2 3
xfer 1 "$(frame 02:00:00:00:02:01 02:00:00:00:02:02 37)" 0
assert_eq "fdb: a move at the limit" "$T1" "$(fdb_port 02:00:00:00:02:02)"
xfer 3 "$(frame $BC 02:00:00:00:02:01 38)" 0 1 2
assert_eq "fdb: a move at the limit" "$T3" "$(fdb_port 02:00:00:00:02:01)"
ctl fdb add $S dev "$T2" static
assert_eq "fdb: static add at the limit" "$T2" "$(fdb_port $S)"
assert_eq "stats.limit_misses after move and static add" \
	$((misses0 + 2)) "$(sw_stat limit_misses)"
ok "max_learned: moves and static entries are not limited"

ctl fdb flush dynamic
xfer 0 "$(frame $BC 02:00:00:00:02:04 40)" 1 2 3
assert_eq "fdb: learning after flush under the limit" \
	"$T0" "$(fdb_port 02:00:00:00:02:04)"
ctl set max_learned 0
assert_eq "max_learned 0" 0 "$(sw_field max_learned)"
for i in 1 2 3 4 5 6; do
	xfer 1 "$(frame $BC "02:00:00:00:03:0$i" "$((40 + i))")" 0 2 3
done
assert_eq "fdb entries with max_learned 0 (no limit)" 8 "$(n_fdb)"
ok "max_learned 0 means no limit"
daemon_alive || fail "tapswitch died"
ts_done
